package record

import "sync"

// buffers holds scratch space for inflated records: inflating is on the
// produce path of compressed topics. The pool holds caches only.
var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// maxPooled keeps huge one-off buffers out of the pool.
const maxPooled = 8 << 20

// GetBuffer returns an empty scratch buffer; give it back with PutBuffer.
func GetBuffer() *[]byte { return buffers.Get().(*[]byte) }

// PutBuffer returns a buffer from GetBuffer.
func PutBuffer(b *[]byte) {
	if cap(*b) <= maxPooled {
		*b = (*b)[:0]
		buffers.Put(b)
	}
}
