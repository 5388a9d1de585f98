package protocol

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// decodeMultiple bounds how much larger than its bytes a request may grow
// once decoded. A Produce request's record data aliases the frame, so its
// decoded form is its topics and partitions: a genuine one stays below its
// size on the wire (every partition carries a batch of 61 bytes or more),
// while 16 MiB of empty flexible topics (3 bytes each) would decode into
// 5.6 million structs, 341 MiB, and answer as many errors.
const decodeMultiple = 4

// decodeSlack lets tiny requests through whatever their shape.
const decodeSlack = 4096

var errDecodeBound = errors.New("request would decode to more than its size allows")

var (
	produceTopicSize     = int64(unsafe.Sizeof(kmsg.ProduceRequestTopic{}))
	producePartitionSize = int64(unsafe.Sizeof(kmsg.ProduceRequestTopicPartition{}))
)

// checkProduceBound walks a Produce body's topics and partitions without
// building them, and refuses one whose decoded form would exceed
// decodeMultiple times its size.
func checkProduceBound(version int16, body []byte) error {
	flexible := version >= 9
	r := kbin.Reader{Src: body}
	if version >= 3 {
		skipString(&r, flexible)
	}
	r.Int16()
	r.Int32()
	topics := arrayLen(&r, flexible)
	size := int64(0)
	for i := int32(0); i < topics && r.Ok(); i++ {
		if version >= 13 {
			r.Span(16)
		} else {
			skipString(&r, flexible)
		}
		parts := arrayLen(&r, flexible)
		size += produceTopicSize + int64(max(parts, 0))*producePartitionSize
		if size > decodeMultiple*int64(len(body))+decodeSlack {
			return fmt.Errorf("%w: %d topics and more in %d bytes", errDecodeBound, i+1, len(body))
		}
		for j := int32(0); j < parts && r.Ok(); j++ {
			r.Int32()
			skipBytes(&r, flexible)
			if flexible {
				skipTags(&r)
			}
		}
		if flexible {
			skipTags(&r)
		}
	}
	// A truncated body is left to the decoder, which says what is wrong.
	return nil
}

func arrayLen(r *kbin.Reader, flexible bool) int32 {
	if flexible {
		return r.CompactArrayLen()
	}
	return r.ArrayLen()
}

func skipString(r *kbin.Reader, flexible bool) {
	if flexible {
		r.CompactNullableString()
	} else {
		r.NullableString()
	}
}

func skipBytes(r *kbin.Reader, flexible bool) {
	if flexible {
		r.CompactNullableBytes()
	} else {
		r.NullableBytes()
	}
}
