package metadata

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kbin"
)

// Tag is a tagged field this package does not know. Records keep them so that
// a record written by a newer Kafka re-encodes without losing anything.
type Tag struct {
	Key   uint32
	Value []byte
}

// reader wraps kbin.Reader with a first error that carries more meaning than
// "not enough data" (a null where the schema forbids one, a bad tag).
type reader struct {
	kbin.Reader
	err error
}

func newReader(b []byte) reader { return reader{Reader: kbin.Reader{Src: b}} }

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.Src = nil
}

func (r *reader) ok() bool { return r.err == nil && r.Ok() }

// finish reports the first error, or bytes the schema did not account for.
func (r *reader) finish() error {
	if r.err != nil {
		return r.err
	}
	if err := r.Complete(); err != nil {
		return fmt.Errorf("truncated: %w", err)
	}
	if len(r.Src) > 0 {
		return fmt.Errorf("%d trailing bytes", len(r.Src))
	}
	return nil
}

// arrayLen reads a compact array length: -1 for null. The length is checked
// against the bytes left (each element is at least elemSize bytes), so garbage
// can never make us allocate more than the input could hold.
func (r *reader) arrayLen(nullable bool, elemSize int) int {
	u := r.Uvarint()
	if !r.ok() {
		return -1
	}
	n := int64(u) - 1
	if n < 0 {
		if !nullable {
			r.fail(errors.New("null in a non-nullable array"))
		}
		return -1
	}
	if n*int64(elemSize) > int64(len(r.Src)) {
		r.fail(fmt.Errorf("array of %d elements with %d bytes left", n, len(r.Src)))
		return -1
	}
	return int(n)
}

// int32s reads a compact int32 array. A non-nullable empty array comes back
// nil; a nullable one comes back empty, because there null and empty differ.
func (r *reader) int32s(nullable bool) []int32 {
	n := r.arrayLen(nullable, 4)
	if n < 0 || (n == 0 && !nullable) {
		return nil
	}
	s := make([]int32, n)
	for i := range s {
		s[i] = r.Int32()
	}
	return s
}

func (r *reader) uuids(nullable bool) [][16]byte {
	n := r.arrayLen(nullable, 16)
	if n < 0 || (n == 0 && !nullable) {
		return nil
	}
	s := make([][16]byte, n)
	for i := range s {
		s[i] = r.Uuid()
	}
	return s
}

// str reads a compact string, copying it: images outlive the batch buffers.
func (r *reader) str() string {
	s := r.nullableStr()
	if s == nil {
		if r.ok() {
			r.fail(errors.New("null in a non-nullable string"))
		}
		return ""
	}
	return *s
}

func (r *reader) nullableStr() *string {
	u := r.Uvarint()
	if !r.ok() {
		return nil
	}
	n := int64(u) - 1
	if n < 0 {
		return nil
	}
	if n > int64(len(r.Src)) {
		r.fail(fmt.Errorf("string of %d bytes with %d left", n, len(r.Src)))
		return nil
	}
	s := string(r.Span(int(n)))
	return &s
}

// tags reads a tagged-field section. known parses the tags the caller's
// schema version defines and reports whether it took the tag; every other tag
// is kept. A known tag must use exactly the bytes its size claims.
func (r *reader) tags(known func(key uint32, f *reader) bool) []Tag {
	n := r.Uvarint()
	var unknown []Tag
	for i := uint32(0); i < n && r.ok(); i++ {
		key := r.Uvarint()
		size := r.Uvarint()
		if !r.ok() {
			break
		}
		if int64(size) > int64(len(r.Src)) {
			r.fail(fmt.Errorf("tag %d of %d bytes with %d left", key, size, len(r.Src)))
			break
		}
		body := r.Span(int(size))
		f := newReader(body)
		if known != nil && known(key, &f) {
			if err := f.finish(); err != nil {
				r.fail(fmt.Errorf("tag %d: %w", key, err))
			}
			continue
		}
		var value []byte
		if len(body) > 0 {
			value = bytes.Clone(body)
		}
		unknown = append(unknown, Tag{Key: key, Value: value})
	}
	return unknown
}

func appendStr(dst []byte, s string) []byte { return kbin.AppendCompactString(dst, s) }

func appendNullableStr(dst []byte, s *string) []byte {
	return kbin.AppendCompactNullableString(dst, s)
}

func appendInt32s(dst []byte, s []int32) []byte {
	dst = kbin.AppendCompactArrayLen(dst, len(s))
	for _, v := range s {
		dst = kbin.AppendInt32(dst, v)
	}
	return dst
}

func appendUUIDs(dst []byte, s [][16]byte) []byte {
	dst = kbin.AppendCompactArrayLen(dst, len(s))
	for _, v := range s {
		dst = kbin.AppendUuid(dst, v)
	}
	return dst
}

// appendTags writes a tagged-field section. Kafka writes tags in ascending
// order, so known and unknown tags are merged by key.
func appendTags(dst []byte, known []Tag, unknown []Tag) []byte {
	all := known
	if len(unknown) > 0 {
		all = append(slices.Clip(known), unknown...)
		slices.SortStableFunc(all, func(a, b Tag) int { return cmp.Compare(a.Key, b.Key) })
	}
	dst = kbin.AppendUvarint(dst, uint32(len(all)))
	for _, t := range all {
		dst = kbin.AppendUvarint(dst, t.Key)
		dst = kbin.AppendUvarint(dst, uint32(len(t.Value)))
		dst = append(dst, t.Value...)
	}
	return dst
}

// versionPin lets a decoded record keep the schema version it was read at, so
// it re-encodes to the same bytes. A record built in code is not pinned and is
// written at the version Kafka 4.0 writes (or higher when a field needs it).
type versionPin struct {
	v   int16
	set bool
}

// SetVersion pins the schema version the record is encoded at. Fields the
// version does not have are left out of the encoding.
func (p *versionPin) SetVersion(v int16) { p.v, p.set = v, true }

func (p versionPin) pick(def int16) int16 {
	if p.set {
		return p.v
	}
	return def
}

func checkVersion(v, maxVersion int16) error {
	if v < 0 || v > maxVersion {
		return fmt.Errorf("unsupported version %d (have 0..%d)", v, maxVersion)
	}
	return nil
}
