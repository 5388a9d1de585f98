package broker

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"spool/config"
	"spool/storage"
)

// A response to a fetch sent before the partition left the fetcher (it
// moved to a new leader, or this broker became its leader) or was added
// again (a new leader epoch) must not touch the log: a new leader would
// otherwise append the old leader's batches after the start of its own
// epoch, and its followers would truncate and re-fetch them forever.
func TestReplicaFetcherDropsStaleResponses(t *testing.T) {
	l, err := storage.Open(t.TempDir(), storage.DefaultConfig(), storage.Options{Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p := newPartition("t", 0, [16]byte{1}, l)
	b := &Broker{cfg: Config{NodeID: 5, Static: config.MustNew(nil)}, log: zap.NewNop()}
	f := &replicaFetcher{m: newFetcherManager(b), leader: 2, parts: map[*partition]*followState{}, wake: make(chan struct{}, 1)}
	resp := func() *kmsg.FetchResponse {
		rp := kmsg.NewFetchResponseTopicPartition()
		rp.RecordBatches, rp.HighWatermark = testBatch(3, 10, 1000, 1), 3
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic, rt.Partitions = "t", []kmsg.FetchResponseTopicPartition{rp}
		r := kmsg.NewPtrFetchResponse()
		r.Topics = []kmsg.FetchResponseTopic{rt}
		return r
	}

	f.add(p)
	_, parts := f.request(time.Now())
	f.remove(p)
	f.handle(resp(), parts)
	if leo := l.LogEndOffset(); leo != 0 {
		t.Fatalf("a response after remove was applied: log end %d", leo)
	}

	f.add(p)
	_, parts = f.request(time.Now())
	f.add(p) // followed again, as for a new leader epoch
	f.handle(resp(), parts)
	if leo := l.LogEndOffset(); leo != 0 {
		t.Fatalf("a response from before a re-add was applied: log end %d", leo)
	}

	_, parts = f.request(time.Now())
	f.handle(resp(), parts)
	if leo := l.LogEndOffset(); leo != 3 {
		t.Fatalf("a current response was not applied: log end %d, want 3", leo)
	}
}

// A leader answering the same divergence again and again means the
// truncation it asks for is not moving this replica's fetch (the silent
// loop that once kept a follower out of the ISR for good): the fetcher
// says so once, and a different answer starts the count again.
func TestReplicaFetcherTellsOfARepeatedDivergence(t *testing.T) {
	l, err := storage.Open(t.TempDir(), storage.DefaultConfig(), storage.Options{Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p := newPartition("t", 0, [16]byte{1}, l)
	core, logs := observer.New(zap.WarnLevel)
	b := &Broker{cfg: Config{NodeID: 5, Static: config.MustNew(nil)}, log: zap.New(core)}
	f := &replicaFetcher{m: newFetcherManager(b), leader: 2, parts: map[*partition]*followState{}, wake: make(chan struct{}, 1)}
	f.add(p)
	diverging := func(epoch int32, end int64) *kmsg.FetchResponse {
		rp := kmsg.NewFetchResponseTopicPartition()
		rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset = epoch, end
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic, rt.Partitions = "t", []kmsg.FetchResponseTopicPartition{rp}
		r := kmsg.NewPtrFetchResponse()
		r.Topics = []kmsg.FetchResponseTopic{rt}
		return r
	}
	answer := func(epoch int32, end int64) {
		_, parts := f.request(time.Now())
		f.handle(diverging(epoch, end), parts)
	}
	for range divergeRepeatsWorthTelling - 1 {
		answer(0, 0)
	}
	answer(1, 0) // another answer: the count starts again
	for range divergeRepeatsWorthTelling - 1 {
		answer(0, 0)
	}
	if n := logs.Len(); n != 0 {
		t.Fatalf("%d warnings before %d identical answers in a row", n, divergeRepeatsWorthTelling)
	}
	for range 3 * divergeRepeatsWorthTelling {
		answer(0, 0)
	}
	if n := logs.FilterMessageSnippet("same divergence").Len(); n != 1 {
		t.Fatalf("%d warnings of a stuck divergence, want exactly 1", n)
	}
}
