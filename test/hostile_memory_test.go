package test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/record"
	"spool/test/harness"
)

// procStatus reads a field of /proc/<pid>/status in bytes (VmRSS, VmHWM).
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// zstdBomb is a batch whose records are inflate bytes of zeros (which do
// not parse as records), zstd-compressed as one frame stating its size or,
// with stream, as Java's streaming writer does, without it.
func zstdBomb(t *testing.T, inflate int, stream bool) []byte {
	t.Helper()
	zeros := make([]byte, inflate)
	var z []byte
	if stream {
		var buf bytes.Buffer
		w, err := zstd.NewWriter(&buf, zstd.WithWindowSize(1<<20))
		if err != nil {
			t.Fatal(err)
		}
		w.Write(zeros)
		w.Close()
		z = buf.Bytes()
	} else {
		enc, _ := zstd.NewWriter(nil)
		z = enc.EncodeAll(zeros, nil)
	}
	return bombBatch(record.CompressionZstd, z)
}

// lz4Bomb is a batch of inflate zero bytes in an lz4 frame, which does not
// state its size: the broker has to count it before it lends the room.
func lz4Bomb(t *testing.T, inflate int) []byte {
	t.Helper()
	z, err := record.Compress(nil, record.CompressionLZ4, make([]byte, inflate), false)
	if err != nil {
		t.Fatal(err)
	}
	return bombBatch(record.CompressionLZ4, z)
}

func bombBatch(codec int8, z []byte) []byte {
	h := record.Header{Magic: 2, Attributes: int16(codec), LastOffsetDelta: 9, NumRecords: 10,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}
	return record.AppendBatch(nil, h, z)
}

// bombProduce is a Produce v9 of n copies of batch to topic's partition 0.
func bombProduce(topic string, batch []byte, n int) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	req.Acks, req.TimeoutMillis = 1, 30000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	for range n {
		p := kmsg.NewProduceRequestTopicPartition()
		p.Records = batch
		rt.Partitions = append(rt.Partitions, p)
	}
	req.Topics = append(req.Topics, rt)
	return req
}

// Eight connections sending zstd and lz4 bombs share one inflation
// budget: the node's memory stays bounded, every bomb is answered with an
// error, the memory goes back to the system afterwards, and the broker
// stays unfenced and serving.
func TestZstdBombsStayWithinTheInflateBudget(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, map[string]string{"queued.max.inflated.bytes": strconv.Itoa(256 << 20)})
	n.Start()
	adm := admin(t, n.Addr)
	ctx := ctxT(t, 2*time.Minute)
	if _, err := adm.CreateTopics(ctx, 1, 1, nil, "bombs"); err != nil {
		t.Fatal(err)
	}
	const inflate = 200 << 20
	bombs := [][]byte{zstdBomb(t, inflate, false), zstdBomb(t, inflate, true), lz4Bomb(t, inflate)}
	before := procStatus(t, n.Pid(), "VmHWM")
	var wg sync.WaitGroup
	var inflated atomic.Int32 // bombs inflated and found not to be records
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", n.Addr, 5*time.Second)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for range 3 {
				resp, err := harness.RequestOn(c, bombProduce("bombs", bombs[i%len(bombs)], 2), 2*time.Minute)
				if err != nil {
					errs <- fmt.Errorf("bomb answered no response: %w", err)
					return
				}
				for _, p := range resp.(*kmsg.ProduceResponse).Topics[0].Partitions {
					switch err := kerr.ErrorForCode(p.ErrorCode); err {
					case kerr.InvalidRecord:
						inflated.Add(1)
					case kerr.CorruptMessage, kerr.RequestTimedOut:
					default:
						errs <- fmt.Errorf("bomb answered %v", err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if inflated.Load() == 0 {
		t.Fatal("no bomb was inflated: every one was refused before its records were read")
	}
	// Eight bombs at once would hold 1.6 GiB inflated; the budget lends
	// room for one at a time, and lends the same buffer again.
	hwm := procStatus(t, n.Pid(), "VmHWM")
	t.Logf("VmHWM %d MiB before the bombs, %d MiB after", before>>20, hwm>>20)
	if limit := before + 256<<20 + 256<<20; hwm > limit {
		t.Fatalf("VmHWM %d MiB after eight connections of zstd bombs; budget 256 MiB, bound %d MiB", hwm>>20, limit>>20)
	}
	// The budget drops its idle buffer after a while and hands the memory
	// back to the system.
	deadline := time.Now().Add(60 * time.Second)
	for rss := procStatus(t, n.Pid(), "VmRSS"); rss > before+64<<20; rss = procStatus(t, n.Pid(), "VmRSS") {
		if time.Now().After(deadline) {
			t.Fatalf("VmRSS %d MiB a minute after the bombs, %d MiB before", rss>>20, before>>20)
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Not fenced: the broker still leads the partition and takes records.
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.ProducerBatchCompression(kgo.ZstdCompression()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "bombs", Value: []byte("after")}).FirstErr(); err != nil {
		t.Fatalf("produce after the bombs: %v", err)
	}
	if !n.Running() {
		t.Fatal("node exited")
	}
}
