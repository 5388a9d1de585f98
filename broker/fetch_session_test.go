package broker

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// sessionFetch is a fetch in session id at epoch of the given partitions
// of topic "s", each at its offset, forgetting the partitions in forget.
func sessionFetch(id, epoch int32, offsets map[int32]int64, forget ...int32) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(12)
	req.MaxBytes, req.SessionID, req.SessionEpoch = 1<<20, id, epoch
	if len(offsets) > 0 {
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = "s"
		for _, p := range slices.Sorted(mapKeys(offsets)) {
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = p, offsets[p], 1<<20
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	if len(forget) > 0 {
		req.ForgottenTopics = []kmsg.FetchRequestForgottenTopic{{Topic: "s", Partitions: forget}}
	}
	return req
}

func mapKeys(m map[int32]int64) func(func(int32) bool) {
	return func(yield func(int32) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// partitionsIn lists the partitions a response mentions, in order.
func partitionsIn(resp *kmsg.FetchResponse) []int32 {
	var out []int32
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			out = append(out, p.Partition)
		}
	}
	return out
}

func TestFetchSessionIncremental(t *testing.T) {
	e := newDataEnv(t, nil)
	e.topic("s", 3, nil)
	e.append("s", 0, testBatch(1, 10, 1, 0))

	full := fetchDirect(t, e, sessionFetch(0, sessionEpochInitial, map[int32]int64{0: 0, 1: 0, 2: 0}))
	id := full.SessionID
	if full.ErrorCode != 0 || id == 0 {
		t.Fatalf("full fetch: error %d, session id %d; want a session", full.ErrorCode, id)
	}
	if got := partitionsIn(full); !slices.Equal(got, []int32{0, 1, 2}) {
		t.Fatalf("full fetch answered %v", got)
	}

	// Nothing changed: the client moved past a-0's record, and the
	// incremental answer mentions no partition.
	resp := fetchDirect(t, e, sessionFetch(id, 1, map[int32]int64{0: 1}))
	if resp.ErrorCode != 0 || resp.SessionID != id || len(partitionsIn(resp)) != 0 {
		t.Fatalf("unchanged session: error %d, id %d, partitions %v", resp.ErrorCode, resp.SessionID, partitionsIn(resp))
	}

	e.append("s", 2, testBatch(1, 10, 1, 0))
	resp = fetchDirect(t, e, sessionFetch(id, 2, nil))
	if got := partitionsIn(resp); !slices.Equal(got, []int32{2}) || len(resp.Topics[0].Partitions[0].RecordBatches) == 0 {
		t.Fatalf("after an append to s-2 the response holds %v", got)
	}

	for _, c := range []struct {
		id, epoch int32
		code      int16
	}{
		{id, 2, kerr.InvalidFetchSessionEpoch.Code},
		{id, 9, kerr.InvalidFetchSessionEpoch.Code},
		{id + 1, 3, kerr.FetchSessionIDNotFound.Code},
		{0, 3, kerr.FetchSessionIDNotFound.Code},
	} {
		if r := fetchDirect(t, e, sessionFetch(c.id, c.epoch, nil)); r.ErrorCode != c.code || r.SessionID != 0 {
			t.Errorf("session %d epoch %d: error %d id %d, want error %d", c.id, c.epoch, r.ErrorCode, r.SessionID, c.code)
		}
	}

	// A log start change is news too; forgotten partitions are not.
	if _, err := e.part("s", 0).log.DeleteRecordsBefore(1); err != nil {
		t.Fatal(err)
	}
	resp = fetchDirect(t, e, sessionFetch(id, 3, map[int32]int64{2: 1}, 1))
	if got := partitionsIn(resp); !slices.Equal(got, []int32{0}) {
		t.Fatalf("after deleting records of s-0 the response holds %v", got)
	}

	closed := fetchDirect(t, e, sessionFetch(id, sessionEpochFinal, map[int32]int64{0: 1}))
	if closed.SessionID != 0 || !slices.Equal(partitionsIn(closed), []int32{0}) {
		t.Fatalf("closing fetch: id %d, partitions %v", closed.SessionID, partitionsIn(closed))
	}
	if r := fetchDirect(t, e, sessionFetch(id, 4, nil)); r.ErrorCode != kerr.FetchSessionIDNotFound.Code {
		t.Fatalf("closed session still answers: error %d", r.ErrorCode)
	}
}

func TestFetchSessionLongPoll(t *testing.T) {
	e := newDataEnv(t, nil)
	e.topic("s", 2, nil)
	id := fetchDirect(t, e, sessionFetch(0, sessionEpochInitial, map[int32]int64{0: 0, 1: 0})).SessionID
	req := sessionFetch(id, 1, nil)
	req.MinBytes, req.MaxWaitMillis = 1, 10_000
	go func() {
		time.Sleep(200 * time.Millisecond)
		e.append("s", 1, testBatch(1, 10, 1, 0))
	}()
	start := time.Now()
	resp := fetchDirect(t, e, req)
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("incremental long poll answered after %v", took)
	}
	if got := partitionsIn(resp); !slices.Equal(got, []int32{1}) {
		t.Fatalf("response holds %v, want only s-1", got)
	}
}

func TestFetchSessionRotatesPartitionsWithData(t *testing.T) {
	e := newDataEnv(t, nil)
	e.topic("s", 3, nil)
	id := fetchDirect(t, e, sessionFetch(0, sessionEpochInitial, map[int32]int64{0: 0, 1: 0, 2: 0})).SessionID
	e.append("s", 0, testBatch(1, 10, 1, 0))
	fetchDirect(t, e, sessionFetch(id, 1, nil))
	s := e.b.fetchSessions.get(id)
	var order []int32
	for _, sp := range s.order {
		order = append(order, sp.partition)
	}
	if !slices.Equal(order, []int32{1, 2, 0}) {
		t.Fatalf("session order %v; the partition that returned data should go last", order)
	}
}

func TestFetchSessionCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := newFetchSessionCache(2)
	a, b := c.create(false), c.create(false)
	c.get(a.id)
	third := c.create(false)
	if c.get(b.id) != nil || c.get(a.id) == nil || c.get(third.id) == nil {
		t.Fatal("the least recently used session should have been evicted")
	}
	if newFetchSessionCache(0).create(false) != nil {
		t.Fatal("a cache without slots created a session")
	}
}

func TestFetchSessionlessBeforeV7(t *testing.T) {
	e := newDataEnv(t, nil)
	e.topic("s", 1, nil)
	req := sessionFetch(0, 0, map[int32]int64{0: 0})
	req.SetVersion(6)
	if resp := fetchDirect(t, e, req); resp.SessionID != 0 || len(e.b.fetchSessions.byID) != 0 {
		t.Fatal("a v6 fetch opened a session")
	}
}
