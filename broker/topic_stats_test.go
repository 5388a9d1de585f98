package broker

import "testing"

// The produce and fetch paths count once per partition: no allocation once
// a topic is known.
func TestTopicCountersDoNotAllocate(t *testing.T) {
	s := newTopicStats()
	s.get("orders")
	allocs := testing.AllocsPerRun(1000, func() {
		s.get("orders").produced(1000, 10, false)
		s.get("orders").fetched(1000, false)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per counted partition", allocs)
	}
	snap := s.snapshot()
	if len(snap) != 1 || snap[0].RecordsIn != 10010 || snap[0].BytesOut != 1001000 || snap[0].ProduceRequests != 1001 {
		t.Fatalf("snapshot %+v", snap)
	}
	s.get("orders").produced(50, 0, true)
	s.forget(func(name string) bool { return name != "orders" })
	if len(s.snapshot()) != 0 {
		t.Fatal("forgotten topic still counted")
	}
	var nilCounters *topicCounters
	nilCounters.produced(1, 1, false) // an unknown topic counts nothing
}
