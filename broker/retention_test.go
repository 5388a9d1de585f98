package broker

import (
	"context"
	"testing"
	"time"
)

func TestRetentionBySize(t *testing.T) {
	e := newDataEnv(t, nil)
	e.topic("r", 1, map[string]string{"segment.bytes": "2000", "retention.bytes": "3000"})
	e.topic("keep", 1, map[string]string{"segment.bytes": "2000"})
	now := time.Now().UnixMilli()
	for i := 0; i < 20; i++ {
		e.append("r", 0, testBatch(1, 500, now, 0))
		e.append("keep", 0, testBatch(1, 500, now, 0))
	}
	r, keep := e.part("r", 0), e.part("keep", 0)
	segs := r.log.NumSegments()
	e.b.applyRetention(context.Background())
	if r.log.LogStartOffset() == 0 || r.log.NumSegments() >= segs || r.log.Size() < 3000-2000 {
		t.Fatalf("retention.bytes left log start %d, %d of %d segments, %d bytes", r.log.LogStartOffset(), r.log.NumSegments(), segs, r.log.Size())
	}
	if keep.log.LogStartOffset() != 0 {
		t.Fatalf("a topic within retention lost records up to %d", keep.log.LogStartOffset())
	}
}

func TestRetentionByTime(t *testing.T) {
	e := newDataEnv(t, nil)
	e.topic("old", 1, map[string]string{"segment.bytes": "2000", "retention.ms": "60000"})
	old := time.Now().Add(-time.Hour).UnixMilli()
	for i := 0; i < 10; i++ {
		e.append("old", 0, testBatch(1, 500, old, 0))
	}
	p := e.part("old", 0)
	e.b.applyRetention(context.Background())
	if p.log.NumSegments() != 1 || p.log.LogStartOffset() == 0 {
		t.Fatalf("expired segments kept: %d segments, log start %d", p.log.NumSegments(), p.log.LogStartOffset())
	}
}
