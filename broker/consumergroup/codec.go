package consumergroup

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kbin"
)

// Uuid is a topic id.
type Uuid = [16]byte

// errTruncated is returned for a record that ends early.
var errTruncated = errors.New("truncated __consumer_offsets record")

// reader reads Kafka's flexible encoding and remembers the first error.
type reader struct{ kbin.Reader }

func newReader(b []byte) *reader { return &reader{kbin.Reader{Src: b}} }

// skipTags skips a tagged-field section, calling known for each tag it
// understands (known reads the field from its own reader and returns false
// when it does not know the tag).
func (r *reader) tags(known func(tag uint32, f *reader)) {
	n := r.Uvarint()
	for i := uint32(0); i < n && r.Ok(); i++ {
		tag := r.Uvarint()
		size := r.Uvarint()
		body := r.Span(int(size))
		if known != nil && r.Ok() {
			known(tag, newReader(body))
		}
	}
}

func (r *reader) strings() []string {
	n := r.CompactArrayLen()
	if n < 0 || !r.Ok() {
		return nil
	}
	out := make([]string, 0, min(int(n), 1024))
	for i := int32(0); i < n && r.Ok(); i++ {
		out = append(out, r.CompactString())
	}
	return out
}

func (r *reader) int32s() []int32 {
	n := r.CompactArrayLen()
	if n < 0 || !r.Ok() {
		return nil
	}
	out := make([]int32, 0, min(int(n), 4096))
	for i := int32(0); i < n && r.Ok(); i++ {
		out = append(out, r.Int32())
	}
	return out
}

// done reports a truncated or malformed record.
func (r *reader) done(what string) error {
	if !r.Ok() {
		return fmt.Errorf("%s: %w", what, errTruncated)
	}
	return nil
}

func appendStrings(dst []byte, ss []string) []byte {
	dst = kbin.AppendCompactArrayLen(dst, len(ss))
	for _, s := range ss {
		dst = kbin.AppendCompactString(dst, s)
	}
	return dst
}

func appendInt32s(dst []byte, vs []int32) []byte {
	dst = kbin.AppendCompactArrayLen(dst, len(vs))
	for _, v := range vs {
		dst = kbin.AppendInt32(dst, v)
	}
	return dst
}

// appendTag appends one tagged field whose body is body.
func appendTag(dst []byte, tag uint32, body []byte) []byte {
	dst = kbin.AppendUvarint(dst, tag)
	dst = kbin.AppendUvarint(dst, uint32(len(body)))
	return append(dst, body...)
}
