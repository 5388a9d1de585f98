package bigbuf

import (
	"testing"
	"time"
	"unsafe"
)

// A buffer given back is lent again to a caller of about its size, and
// not to one of a very different size.
func TestPoolLendsBuffersAgain(t *testing.T) {
	var p Pool
	a := p.Get(3<<20+5, 64<<20)
	if len(a) != 3<<20+5 || cap(a) != 4<<20 {
		t.Fatalf("len %d cap %d", len(a), cap(a))
	}
	p.Put(a)
	b := p.Get(4<<20, 64<<20)
	if unsafe.SliceData(a) != unsafe.SliceData(b) {
		t.Fatal("a buffer of the same rounded size was not lent again")
	}
	p.Put(b)
	c := p.Get(1<<20, 64<<20)
	if unsafe.SliceData(c) == unsafe.SliceData(a) {
		t.Fatal("a 4 MiB buffer lent for 1 MiB")
	}
	if held := p.Held(); held != 5<<20 {
		t.Fatalf("holds %d bytes, want 5 MiB", held)
	}
}

// Idle buffers are dropped to make room within the limit, oldest first,
// and after idling.
func TestPoolDropsIdleBuffers(t *testing.T) {
	p := Pool{Idle: 50 * time.Millisecond}
	a, b := p.Get(8<<20, 16<<20), p.Get(8<<20, 16<<20)
	p.Put(a)
	p.Put(b)
	c := p.Get(12<<20, 16<<20)
	if held := p.Held(); held != 12<<20 {
		t.Fatalf("holds %d bytes after a 12 MiB buffer within 16 MiB", held)
	}
	p.Put(c)
	deadline := time.Now().Add(5 * time.Second)
	for p.Held() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("still holds %d bytes after idling", p.Held())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
