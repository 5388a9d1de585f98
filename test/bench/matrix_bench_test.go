package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const (
	sectionSingle  = "Single node"
	sectionCluster = "3 brokers (each also a controller), min.insync.replicas=2 on RF=3"
	sectionFetch   = "Fetch path"
)

// matrix lists every client workload: 100 B and 1 KiB records, acks=1 and
// acks=all, 1, 6 and 48 partitions, on one node and on three brokers with
// RF=3. The three-broker set adds RF=1 for the headline workload, the
// baseline of the RF=3 target.
func matrix() []workload {
	var out []workload
	for _, brokers := range []int{1, 3} {
		for _, size := range []int{100, 1024} {
			for _, acks := range []string{"1", "all"} {
				for _, p := range []int32{1, 6, 48} {
					rf := int16(1)
					if brokers == 3 {
						rf = 3
					}
					out = append(out, workload{size: size, acks: acks, partitions: p, brokers: brokers, rf: rf})
					if brokers == 3 && size == 1024 && acks == "all" && p == 6 {
						out = append(out, workload{size: size, acks: acks, partitions: p, brokers: brokers, rf: 1})
					}
				}
			}
		}
	}
	return out
}

// headline is the workload most targets speak of.
var headline = workload{size: 1024, acks: "all", partitions: 6, brokers: 1, rf: 1}

// outcome is one server's figures on one workload.
type outcome struct {
	produceMBps, consumeMBps float64
	lat                      [3]latencies
	cpuPerGB, peakMiB        float64
}

var fractions = [3]float64{0.25, 0.50, 0.75}

// BenchmarkMatrix runs every workload against spool and, on one node,
// against kfake in memory and kfake on disk, one after the other on fresh
// servers, and adds their rows to the table. Select a subset with -bench,
// e.g. BENCH='Matrix/1node/1KiB/acks=all/p=6$'.
func BenchmarkMatrix(b *testing.B) {
	c := cellTimes()
	table.note("Matrix cells: %v warm-up, then %v measured (BENCH_CELL, BENCH_WARM). Latency is measured at 25/50/75%% of each server's own maximum produce rate on the same workload, producing with linger 0, paced every millisecond; throughput produces with franz-go's defaults (linger 10 ms, 5 requests in flight) and a round-robin partitioner; record values are random bytes, sent uncompressed; consumers use franz-go's fetch sizes (1 MiB a partition, 50 MiB a response) and re-read the topic from the start for the whole cell.", c.warm, c.measure)
	table.note("Apache Kafka %s: its defaults, with Kafka's own broker heap (%s); one Kafka per section (single node, 3 nodes), primed with a few hundred records and offset commits, serves all of that section's workloads, each on a fresh topic deleted afterwards (JVM start-up would otherwise take most of the run), and idles while the other servers run; its acks=all RF=1 topics have flush.messages=1, since Spool fsyncs those batches before acknowledging them, and its RF=3 topics have min.insync.replicas=2, as Spool's.", kafkaVersion, kafkaHeap)
	var sendfile, copied int64
	shared := map[int]*server{}
	defer func() {
		for _, s := range shared {
			s.stop()
		}
	}()
	for _, w := range matrix() {
		name := fmt.Sprintf("%dnode/%s/acks=%s/p=%d", w.brokers, sizeName(w.size), w.acks, w.partitions)
		if w.brokers > 1 {
			name += fmt.Sprintf("/rf=%d", w.rf)
		}
		b.Run(name, func(b *testing.B) {
			peers := []string{"spool", "kafka", "kfake", "kfake-disk"}
			if w.brokers > 1 {
				peers = peers[:2]
			}
			got := map[string]outcome{}
			for _, p := range peers {
				var s *server
				switch {
				case p == "kafka":
					if shared[w.brokers] == nil {
						// The other section's Kafka is done: it would
						// only take memory and CPU from this one's runs.
						for n, other := range shared {
							other.stop()
							delete(shared, n)
						}
						shared[w.brokers] = startWarmKafka(b, w.brokers, nil)
					}
					s = shared[w.brokers]
				case w.brokers > 1:
					s = startSpoolCluster(b, w.brokers, nil)
				default:
					s = startPeer(b, p)
				}
				b.Logf("%s: %s", w, s.opts)
				o, err := runWorkload(s, w, c)
				if s.name == "spool" {
					sf, cp := s.fetchBytes()
					sendfile, copied = sendfile+sf, copied+cp
				}
				if s.kafka == nil {
					s.stop()
				}
				if err != nil {
					b.Fatalf("%s on %s: %v", w, p, err)
				}
				got[p] = o
			}
			addWorkloadRows(w, got)
		})
	}
	if sendfile+copied > 0 {
		table.add(row{Section: sectionFetch, Workload: "record bytes sent by sendfile, every plaintext fetch of the matrix (copied: " + fmt.Sprint(copied) + " bytes)",
			Unit: "%", Spool: 100 * float64(sendfile) / float64(sendfile+copied)})
	}
}

func sizeName(size int) string {
	if size >= 1024 {
		return fmt.Sprintf("%dKiB", size/1024)
	}
	return fmt.Sprintf("%dB", size)
}

// runWorkload measures produce, consume and latency cells on one server,
// with its CPU time and peak memory over the produce and consume cells.
func runWorkload(s *server, w workload, c cells) (outcome, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var o outcome
	topic := "bench"
	configs := w.configs()
	if s.kafka != nil {
		// A shared Kafka gets a fresh topic per workload.
		topic = fmt.Sprintf("bench-%d", time.Now().UnixNano())
		defer deleteTopic(s.addrs, topic)
		if w.acks == "all" && w.rf == 1 {
			if configs == nil {
				configs = map[string]*string{}
			}
			one := "1"
			configs["flush.messages"] = &one
		}
	}
	if err := createTopic(ctx, s.addrs, topic, w.partitions, w.rf, configs); err != nil {
		return o, err
	}
	profDir := os.Getenv("BENCH_PROFILE")
	profiled := profDir != "" && s.name == "spool" && w == headline
	var waits []func()
	pc := c
	if profiled {
		pc.onMeasure = func(d time.Duration) { waits = append(waits, s.profile(filepath.Join(profDir, "produce.pprof"), d)) }
	}
	s.resetPeak()
	cpu0 := s.cpuSeconds()
	p, err := produceMax(ctx, s.addrs, topic, w, pc)
	if err != nil {
		return o, err
	}
	cc := c
	if profiled {
		cc.onMeasure = func(d time.Duration) { waits = append(waits, s.profile(filepath.Join(profDir, "consume.pprof"), d)) }
	}
	crate, consumed, err := consumeRate(ctx, s.addrs, topic, p.total, cc)
	if err != nil {
		return o, err
	}
	for _, wait := range waits {
		wait()
	}
	gb := float64((p.total+consumed)*int64(w.size)) / 1e9
	o.cpuPerGB = (s.cpuSeconds() - cpu0) / gb
	o.peakMiB = float64(s.peakRSS()) / (1 << 20)
	o.produceMBps = p.rate * float64(w.size) / 1e6
	o.consumeMBps = crate * float64(w.size) / 1e6
	for i, f := range fractions {
		l, err := latency(ctx, s.addrs, topic, w, f*p.rate, c)
		if err != nil {
			return o, fmt.Errorf("latency at %.0f%%: %w", 100*f, err)
		}
		if l.missing > 0 {
			table.note("%s on %s at %.0f%% of max: %d records produced in the window were not consumed within 5 s", w, s.name, 100*f, l.missing)
		}
		o.lat[i] = l
	}
	return o, nil
}

func addWorkloadRows(w workload, got map[string]outcome) {
	section := sectionSingle
	if w.brokers > 1 {
		section = sectionCluster
	}
	m := currentMachine()
	produceLimit, produceLimitName := m.LoopbackMBps, "loopback"
	switch {
	case w.brokers > 1:
		// Each record crosses loopback three times: to the leader and to
		// two followers.
		produceLimit, produceLimitName = m.LoopbackMBps/3, "loopback/3"
	case w.acks == "all":
		produceLimit, produceLimitName = m.DiskMBps, "disk fdatasync"
	}
	mk := func(what, unit string, lower bool, v func(outcome) float64) row {
		r := row{Section: section, Workload: w.String() + " " + what, Unit: unit, Lower: lower, Spool: v(got["spool"]), Peers: map[string]float64{}}
		for p, o := range got {
			if p != "spool" {
				r.Peers[p] = v(o)
			}
		}
		return r
	}
	r := mk("produce", "MB/s", false, func(o outcome) float64 { return o.produceMBps })
	r.Limit, r.LimitName = produceLimit, produceLimitName
	table.add(r)
	for p, o := range got {
		if o.consumeMBps == 0 {
			table.note("%s consume on %s: 0 means no record arrived within the cell.", w, p)
		}
	}
	r = mk("consume", "MB/s", false, func(o outcome) float64 { return o.consumeMBps })
	r.Limit, r.LimitName = m.LoopbackMBps, "loopback"
	table.add(r)
	for i, f := range fractions {
		r = mk(fmt.Sprintf("e2e latency at %.0f%% of max", 100*f), "ms p50 / p99 / p99.9", true,
			func(o outcome) float64 { _, p99, _ := o.lat[i].ms(); return p99 })
		r.Text = got["spool"].lat[i].String()
		r.PeerTexts = map[string]string{}
		for p, o := range got {
			if p != "spool" {
				r.PeerTexts[p] = o.lat[i].String()
			}
		}
		table.add(r)
	}
	table.add(mk("server CPU per GB moved", "CPU s/GB", true, func(o outcome) float64 { return o.cpuPerGB }))
	table.add(mk("server peak RSS", "MiB", true, func(o outcome) float64 { return o.peakMiB }))
}
