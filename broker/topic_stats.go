package broker

import (
	"sort"
	"sync"
	"sync/atomic"
)

// topicCounters are one topic's traffic counters (Kafka's BrokerTopicMetrics).
// The produce and fetch paths add to them once per partition of a request,
// never per record.
type topicCounters struct {
	bytesIn, recordsIn, bytesOut   atomic.Uint64
	bytesRejected                  atomic.Uint64
	produceRequests, fetchRequests atomic.Uint64
	failedProduce, failedFetch     atomic.Uint64
}

// topicStats maps topic names to their counters. Readers load an immutable
// map; a topic seen for the first time copies it under the lock, so the
// request path neither locks nor allocates once a topic is known.
type topicStats struct {
	mu sync.Mutex
	m  atomic.Pointer[map[string]*topicCounters]
}

func newTopicStats() *topicStats {
	s := &topicStats{}
	m := map[string]*topicCounters{}
	s.m.Store(&m)
	return s
}

// get returns name's counters, nil for an empty name (a topic id this
// broker could not resolve) or a broker built without counters (tests).
func (s *topicStats) get(name string) *topicCounters {
	if s == nil || name == "" {
		return nil
	}
	if c := (*s.m.Load())[name]; c != nil {
		return c
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.m.Load()
	if c := old[name]; c != nil {
		return c
	}
	next := make(map[string]*topicCounters, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	c := &topicCounters{}
	next[name] = c
	s.m.Store(&next)
	return c
}

// forget drops the counters of topics for which keep is false (deleted
// topics), so their series leave /metrics.
func (s *topicStats) forget(keep func(string) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.m.Load()
	next := make(map[string]*topicCounters, len(old))
	for k, v := range old {
		if keep(k) {
			next[k] = v
		}
	}
	s.m.Store(&next)
}

// TopicTraffic is a snapshot of one topic's counters.
type TopicTraffic struct {
	Topic                          string
	BytesIn, RecordsIn, BytesOut   uint64
	BytesRejected                  uint64
	ProduceRequests, FetchRequests uint64
	FailedProduce, FailedFetch     uint64
}

// Traffic snapshots the per-topic counters only: atomic loads over a
// copy-on-write map, for readers (the web console) that poll more often
// than Stats, which walks every partition and group, should run.
func (b *Broker) Traffic() []TopicTraffic { return b.topicStats.snapshot() }

func (s *topicStats) snapshot() []TopicTraffic {
	m := *s.m.Load()
	out := make([]TopicTraffic, 0, len(m))
	for name, c := range m {
		out = append(out, TopicTraffic{
			Topic: name, BytesIn: c.bytesIn.Load(), RecordsIn: c.recordsIn.Load(), BytesOut: c.bytesOut.Load(),
			BytesRejected: c.bytesRejected.Load(), ProduceRequests: c.produceRequests.Load(), FetchRequests: c.fetchRequests.Load(),
			FailedProduce: c.failedProduce.Load(), FailedFetch: c.failedFetch.Load(),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Topic < out[j].Topic })
	return out
}

// produced counts one partition of a produce request.
func (c *topicCounters) produced(bytes, records int, failed bool) {
	if c == nil {
		return
	}
	c.produceRequests.Add(1)
	if failed {
		c.failedProduce.Add(1)
		c.bytesRejected.Add(uint64(bytes))
		return
	}
	c.bytesIn.Add(uint64(bytes))
	c.recordsIn.Add(uint64(records))
}

// fetched counts one partition of a consumer's fetch response.
func (c *topicCounters) fetched(bytes int, failed bool) {
	if c == nil {
		return
	}
	c.fetchRequests.Add(1)
	if failed {
		c.failedFetch.Add(1)
		return
	}
	c.bytesOut.Add(uint64(bytes))
}
