package test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
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
	"github.com/twmb/franz-go/pkg/sasl/plain"

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

// bigProduceFrame is one Produce frame of about size bytes: a batch of
// zeros (which fails its CRC) for a topic that does not exist.
func bigProduceFrame(size int) []byte {
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	req.Acks, req.TimeoutMillis = 1, 30000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = "nope"
	p := kmsg.NewProduceRequestTopicPartition()
	p.Records = make([]byte, size-4096)
	rt.Partitions = append(rt.Partitions, p)
	req.Topics = append(req.Topics, rt)
	return frame(req.AppendTo(header(0, 9, true)))
}

// Twenty connections sending 100 MiB frames at once are answered within
// queued.max.request.bytes, and the memory goes back to the system after
// the burst (the frame pool once kept 2 GiB of rounded-up buffers).
func TestLargeFramesLeaveNoMemoryBehind(t *testing.T) {
	t.Parallel()
	const budget = 512 << 20
	n := harness.SingleNode(t, map[string]string{"queued.max.request.bytes": strconv.Itoa(budget)})
	n.Start()
	big := bigProduceFrame(100 << 20)
	before := procStatus(t, n.Pid(), "VmRSS")
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			c, err := net.DialTimeout("tcp", n.Addr, 5*time.Second)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(3 * time.Minute))
			if _, err := c.Write(big); err != nil {
				errs <- fmt.Errorf("write: %w", err)
				return
			}
			var size [4]byte
			if _, err := io.ReadFull(c, size[:]); err != nil {
				errs <- fmt.Errorf("no answer to a 100 MiB frame: %w", err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	hwm := procStatus(t, n.Pid(), "VmHWM")
	t.Logf("VmRSS %d MiB before, VmHWM %d MiB during twenty 100 MiB frames", before>>20, hwm>>20)
	if limit := before + budget + 256<<20; hwm > limit {
		t.Fatalf("VmHWM %d MiB; queued.max.request.bytes %d MiB, bound %d MiB", hwm>>20, budget>>20, limit>>20)
	}
	deadline := time.Now().Add(60 * time.Second)
	for rss := procStatus(t, n.Pid(), "VmRSS"); rss > before+64<<20; rss = procStatus(t, n.Pid(), "VmRSS") {
		if time.Now().After(deadline) {
			t.Fatalf("VmRSS %d MiB a minute after the frames, %d MiB before", rss>>20, before>>20)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if !n.Running() {
		t.Fatal("node exited")
	}
}

// Frames refused before SASL authentication give their bytes back to
// queued.max.request.bytes: each refused frame (up to
// sasl.server.max.receive.size) once kept its bytes, until the budget was
// full for good and the listener stopped reading anyone.
func TestFramesRefusedBeforeAuthenticationFreeTheirBudget(t *testing.T) {
	t.Parallel()
	n := secureNode(t, "SASL_PLAINTEXT", map[string]string{
		"sasl.enabled.mechanisms":                             "PLAIN",
		"sasl.mechanism.inter.broker.protocol":                "PLAIN",
		"listener.name.sasl_plaintext.plain.sasl.jaas.config": plainModule + ` required username="admin" password="admin-secret" user_alice="alice-secret";`,
		"queued.max.request.bytes":                            strconv.Itoa(4 << 20),
	}, nil)
	early := frame(append(header(3, 12, true), make([]byte, 400<<10)...))
	for i := range 20 {
		if !sendUntilClosed(n.Addr, early, 30*time.Second) {
			t.Fatalf("frame %d before authentication: connection not closed", i)
		}
	}
	if err := roundTrip(t, n.Addr, "after", nil, plain.Auth{User: "alice", Pass: "alice-secret"}.AsMechanism()); err != nil {
		t.Fatalf("authenticated client after refused frames: %v", err)
	}
}
