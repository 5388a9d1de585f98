package broker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/twmb/franz-go/pkg/kmsg"
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

var errShortRecord = errors.New("record runs past the end of the batch")

// walk reads exactly n records from b. Framing errors are returned; rule
// breaks are collected in rc.errs.
func (rc *recordCheck) walk(b []byte, n int32) error {
	rc.tsLo, rc.tsHi = satSub(rc.nowMs, rc.cfg.beforeMaxMs), satAdd(rc.nowMs, rc.cfg.afterMaxMs)
	for i := int32(0); i < n; i++ {
		size, b2, ok := varlong(b)
		if !ok || size < 0 || size > math.MaxInt32 {
			return fmt.Errorf("record %d: bad length", i)
		}
		b = b2
		if size > int64(len(b)) {
			return fmt.Errorf("record %d: %w", i, errShortRecord)
		}
		if err := rc.record(b[:size], i); err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
		b = b[size:]
	}
	if len(b) != 0 {
		return fmt.Errorf("%d bytes remain after the declared %d records", len(b), n)
	}
	return nil
}

// record checks one record body: attributes, timestamp delta, offset delta,
// key, value and headers, which must fill the body exactly.
func (rc *recordCheck) record(b []byte, index int32) error {
	if len(b) < 1 {
		return errShortRecord
	}
	b = b[1:] // attributes: unused in v2
	tsDelta, b, ok := varlong(b)
	if !ok {
		return errors.New("bad timestamp delta")
	}
	offDelta, b, ok := varint(b)
	if !ok {
		return errors.New("bad offset delta")
	}
	if offDelta != int64(index) {
		// Kafka rewrites such batches; storing the bytes as received
		// means refusing them, or consumers would see wrong offsets.
		return fmt.Errorf("offset delta %d, want %d", offDelta, index)
	}
	keyLen, b, ok := varint(b)
	if !ok || keyLen < -1 || keyLen > int64(len(b)) {
		return errors.New("bad key length")
	}
	b = b[max(keyLen, 0):]
	valLen, b, ok := varint(b)
	if !ok || valLen < -1 || valLen > int64(len(b)) {
		return errors.New("bad value length")
	}
	b = b[max(valLen, 0):]
	if err := skipHeaders(b); err != nil {
		return err
	}
	rc.rules(index, keyLen < 0, rc.firstTs+tsDelta)
	return nil
}

// skipHeaders checks that b holds exactly a header count and its headers.
func skipHeaders(b []byte) error {
	count, b, ok := varint(b)
	if !ok || count < 0 {
		return errors.New("bad header count")
	}
	for j := int64(0); j < count; j++ {
		kl, rest, ok := varint(b)
		if !ok || kl < 0 || kl > int64(len(rest)) {
			return fmt.Errorf("header %d: bad key length", j)
		}
		vl, rest, ok := varint(rest[kl:])
		if !ok || vl < -1 || vl > int64(len(rest)) {
			return fmt.Errorf("header %d: bad value length", j)
		}
		b = rest[max(vl, 0):]
	}
	if len(b) != 0 {
		return fmt.Errorf("record size leaves %d unread bytes", len(b))
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

// varint reads a zigzag varint that must fit 32 bits; varlong one of 64.
func varint(b []byte) (int64, []byte, bool) {
	v, rest, ok := varlong(b)
	return v, rest, ok && v >= math.MinInt32 && v <= math.MaxInt32
}

// varlong decodes the one- and two-byte forms inline: record framing is
// almost all small numbers, and this runs several times per record.
func varlong(b []byte) (int64, []byte, bool) {
	if len(b) > 0 && b[0] < 0x80 {
		u := int64(b[0])
		return u>>1 ^ -(u & 1), b[1:], true
	}
	if len(b) > 1 && b[1] < 0x80 {
		u := int64(b[0]&0x7f) | int64(b[1])<<7
		return u>>1 ^ -(u & 1), b[2:], true
	}
	v, k := binary.Varint(b)
	if k <= 0 {
		return 0, b, false
	}
	return v, b[k:], true
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
