package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Iter walks the records of a batch: the bytes after the header (inflated
// if the batch is compressed) and the header's record count. It checks
// the framing of every record strictly (lengths in range, the fields fill
// the record exactly) and allocates nothing: the records it returns alias
// the bytes it walks.
type Iter struct {
	b    []byte
	n, i int32
	err  error
}

// NewIter walks n records in b.
func NewIter(b []byte, n int32) Iter { return Iter{b: b, n: n} }

// Next returns the next record; false at the end or on a framing error,
// which Err then reports.
func (it *Iter) Next() (Record, bool) {
	if it.i >= it.n || it.err != nil {
		return Record{}, false
	}
	size, rest, ok := varlong(it.b)
	if !ok || size < 0 || size > math.MaxInt32 {
		return it.fail("bad length")
	}
	if size > int64(len(rest)) {
		return it.fail("record runs past the end of the batch")
	}
	r, err := parseRecord(rest[:size])
	if err != nil {
		return it.fail(err.Error())
	}
	it.b = rest[size:]
	it.i++
	return r, true
}

func (it *Iter) fail(what string) (Record, bool) {
	it.err = fmt.Errorf("%w: record %d: %s", ErrCorrupt, it.i, what)
	return Record{}, false
}

// Err is the framing error that stopped the walk, if any.
func (it *Iter) Err() error { return it.err }

// Index is the number of records returned so far.
func (it *Iter) Index() int32 { return it.i }

// Rest is what follows the records walked so far; after the last record
// of a well-formed batch it is empty.
func (it *Iter) Rest() []byte { return it.b }

// parseRecord decodes one record body (after its length): attributes,
// timestamp delta, offset delta, key, value and headers, which must fill
// the body exactly.
func parseRecord(b []byte) (Record, error) {
	if len(b) < 1 {
		return Record{}, errors.New("record runs past the end of the batch")
	}
	r := Record{Attributes: int8(b[0])}
	var ok bool
	if r.TimestampDelta, b, ok = varlong(b[1:]); !ok {
		return r, errors.New("bad timestamp delta")
	}
	off, b, ok := varint(b)
	if !ok {
		return r, errors.New("bad offset delta")
	}
	r.OffsetDelta = int32(off)
	if r.Key, b, ok = nullableBytes(b); !ok {
		return r, errors.New("bad key length")
	}
	if r.Value, b, ok = nullableBytes(b); !ok {
		return r, errors.New("bad value length")
	}
	if err := checkHeaders(b); err != nil {
		return r, err
	}
	r.Headers = b
	return r, nil
}

// nullableBytes reads a varint length (-1: null) and that many bytes.
func nullableBytes(b []byte) ([]byte, []byte, bool) {
	n, b, ok := varint(b)
	if !ok || n < -1 || n > int64(len(b)) {
		return nil, b, false
	}
	if n < 0 {
		return nil, b, true
	}
	return b[:n:n], b[n:], true
}

// checkHeaders checks that b holds exactly a header count and its headers.
func checkHeaders(b []byte) error {
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

// varint reads a zigzag varint that must fit 32 bits.
func varint(b []byte) (int64, []byte, bool) {
	v, rest, ok := varlong(b)
	return v, rest, ok && v >= math.MinInt32 && v <= math.MaxInt32
}

// varlong reads a zigzag varint of up to 64 bits. The one- and two-byte
// forms are decoded inline: record framing is almost all small numbers,
// and this runs several times per record on the produce path.
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
