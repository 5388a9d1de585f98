package test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
)

// TestRetentionWhileConsuming keeps producing to a topic with a short
// retention.ms and one with a small retention.bytes while a consumer reads
// both: old segments go, the earliest offset moves up, the consumer keeps
// up, and the size-bounded log stays near its bound on disk.
func TestRetentionWhileConsuming(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, map[string]string{"log.retention.check.interval.ms": "300"})
	n.Start()
	adm := admin(t, n.Addr)
	const segment, retainBytes = 2048, 8192
	makeTopic(t, adm, "ret-time", 1, map[string]string{"internal.segment.bytes": "2048", "retention.ms": "2000"})
	makeTopic(t, adm, "ret-size", 1, map[string]string{"internal.segment.bytes": "2048", "retention.bytes": "8192"})
	topics := []string{"ret-time", "ret-size"}

	prod := syncProducer(t, n.Addr)
	ctx, stop := context.WithCancel(ctxT(t, 2*time.Minute))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			for _, topic := range topics {
				prod.Produce(ctx, &kgo.Record{Topic: topic, Value: []byte(strings.Repeat("r", 200))}, nil)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()

	cons, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.ConsumeTopics(topics...), kgo.FetchMaxWait(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	var mu sync.Mutex
	last := map[string]int64{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			cons.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
				mu.Lock()
				last[r.Topic] = max(last[r.Topic], r.Offset)
				mu.Unlock()
			})
		}
	}()

	deadline := time.Now().Add(60 * time.Second)
	for !startsMoved(t, adm, topics) {
		if time.Now().After(deadline) {
			t.Fatalf("log start offsets never moved\n%s", n.Output())
		}
		time.Sleep(500 * time.Millisecond)
	}
	stop()
	wg.Wait()
	prod.Flush(ctxT(t, time.Minute))

	// The consumer reads on to the end after retention moved the start.
	ends, err := adm.ListEndOffsets(ctxT(t, time.Minute), topics...)
	if err != nil {
		t.Fatal(err)
	}
	consumeTo := ctxT(t, 30*time.Second)
	for _, topic := range topics {
		end, _ := ends.Lookup(topic, 0)
		for {
			mu.Lock()
			got := last[topic]
			mu.Unlock()
			if got >= end.Offset-1 {
				break
			}
			if consumeTo.Err() != nil {
				t.Fatalf("%s: consumer reached %d of %d", topic, got, end.Offset)
			}
			cons.PollFetches(consumeTo).EachRecord(func(r *kgo.Record) {
				mu.Lock()
				last[r.Topic] = max(last[r.Topic], r.Offset)
				mu.Unlock()
			})
		}
	}

	time.Sleep(time.Second) // at least one retention pass after the last produce
	if size := logBytes(t, filepath.Join(n.Dir, "ret-size-0")); size > retainBytes+segment+1024 {
		t.Fatalf("ret-size holds %d bytes on disk; retention.bytes is %d", size, retainBytes)
	}
}

// startsMoved reports whether every topic's partition 0 has a log start
// offset above 0.
func startsMoved(t *testing.T, adm *kadm.Client, topics []string) bool {
	t.Helper()
	starts, err := adm.ListStartOffsets(ctxT(t, time.Minute), topics...)
	if err != nil {
		t.Fatal(err)
	}
	for _, topic := range topics {
		if s, ok := starts.Lookup(topic, 0); !ok || s.Err != nil || s.Offset == 0 {
			return false
		}
	}
	return true
}

// logBytes sums the segment files of a partition directory.
func logBytes(t *testing.T, dir string) int64 {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			total += st.Size()
		}
	}
	return total
}
