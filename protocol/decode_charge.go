package protocol

import (
	"reflect"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// A request other than Produce may decode to many times its bytes: kbin
// lets an array hold as many elements as bytes remain, and an element of
// empty strings, arrays and tags is one to three bytes on the wire but a
// struct of tens of bytes once built. Rather than walk every API's shape
// (as checkProduceBound does for the one API whose frames are large by
// design), a frame past chargeFree is charged to queued.max.request.bytes
// at the worst its API can reach, the size of its largest element type per
// byte, before it is decoded; one whose worst case is more than the whole
// budget is refused. Genuine requests that large are rare (a full Fetch of
// many thousand partitions), and they only wait for room.

// chargeFree is the frame size below which no decode charge is taken:
// everyday requests, whose worst case is a few hundred KiB each and bounded
// per connection by its requests in flight.
const chargeFree = 4 << 10

// tagEntry is what one unknown tagged field costs once decoded (a map
// entry with its key and value slice), at least two bytes on the wire.
const tagEntry = 64

// worstPerByte caches, per request key, the most one byte of body may
// become when decoded.
var worstPerByte sync.Map // int16 -> int64

// decodeCharge is what a frame of n body bytes for API key is charged,
// beyond its own bytes, before it is decoded.
func decodeCharge(key int16, n int) int64 {
	if key == produceKey || n <= chargeFree {
		return 0
	}
	return (worstFor(key) - 1) * int64(n)
}

func worstFor(key int16) int64 {
	if w, ok := worstPerByte.Load(key); ok {
		return w.(int64)
	}
	w := int64(tagEntry)
	if req := kmsg.RequestForKey(key); req != nil {
		w = max(w, largestElement(reflect.TypeOf(req), map[reflect.Type]bool{}))
	}
	worstPerByte.Store(key, w)
	return w
}

// largestElement is the size of the largest slice element type reachable
// from t: each element takes at least one byte of the frame.
func largestElement(t reflect.Type, seen map[reflect.Type]bool) int64 {
	if seen[t] {
		return 0
	}
	seen[t] = true
	var most int64
	switch t.Kind() {
	case reflect.Pointer:
		most = largestElement(t.Elem(), seen)
	case reflect.Slice:
		most = max(int64(t.Elem().Size()), largestElement(t.Elem(), seen))
	case reflect.Struct:
		for i := range t.NumField() {
			most = max(most, largestElement(t.Field(i).Type, seen))
		}
	}
	return most
}
