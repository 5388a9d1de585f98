package broker

import (
	"fmt"
	"math"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/record"
)

// recordCheck walks the records of one v2 batch without allocating per
// record, collecting per-record rule breaks.
type recordCheck struct {
	cfg      *produceConfig
	nowMs    int64
	firstTs  int64
	batchLAT bool // the producer set the LogAppendTime attribute
	errs     []kmsg.ProduceResponseTopicPartitionErrorRecord
	tsErr    bool
	// tsLo and tsHi bound CreateTime timestamps (message.timestamp.before/
	// after.max.ms around now), set once per batch.
	tsLo, tsHi int64
}

// walk reads exactly n records from b. Framing errors are returned; rule
// breaks are collected in rc.errs.
func (rc *recordCheck) walk(b []byte, n int32) error {
	rc.tsLo, rc.tsHi = satSub(rc.nowMs, rc.cfg.beforeMaxMs), satAdd(rc.nowMs, rc.cfg.afterMaxMs)
	it := record.NewIter(b, n)
	for r, ok := it.Next(); ok; r, ok = it.Next() {
		index := it.Index() - 1
		if r.OffsetDelta != index {
			// Kafka rewrites such batches; storing the bytes as received
			// means refusing them, or consumers would see wrong offsets.
			return fmt.Errorf("record %d: offset delta %d, want %d", index, r.OffsetDelta, index)
		}
		rc.rules(index, r.Key == nil, rc.firstTs+r.TimestampDelta)
	}
	if err := it.Err(); err != nil {
		return err
	}
	if len(it.Rest()) != 0 {
		return fmt.Errorf("%d bytes remain after the declared %d records", len(it.Rest()), n)
	}
	return nil
}

// rules applies the per-record checks Kafka reports as record errors.
func (rc *recordCheck) rules(index int32, nullKey bool, ts int64) {
	if nullKey && rc.cfg.compacted {
		rc.fail(index, false, "compacted topic cannot accept a record without a key")
		return
	}
	switch {
	case !rc.cfg.logAppendTime && ts != -1:
		if ts < rc.tsLo || ts > rc.tsHi {
			rc.fail(index, true, fmt.Sprintf("timestamp %d is out of range [%d, %d]", ts, rc.tsLo, rc.tsHi))
		}
	case rc.batchLAT:
		rc.fail(index, true, "producers may not set the LogAppendTime timestamp type")
	}
}

func (rc *recordCheck) fail(index int32, ts bool, msg string) {
	e := kmsg.NewProduceResponseTopicPartitionErrorRecord()
	e.RelativeOffset, e.ErrorMessage = index, &msg
	rc.errs = append(rc.errs, e)
	rc.tsErr = rc.tsErr || ts
}

func satSub(a, b int64) int64 {
	if b > 0 && a < math.MinInt64+b {
		return math.MinInt64
	}
	return a - b
}

func satAdd(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
