package protocol

import (
	"sync"

	"spool/bigbuf"
)

// framePool recycles request frame buffers: up to pooledMax bytes by
// power-of-two size class, so a busy connection does not allocate a buffer
// per request; larger frames from a bigbuf.Pool, which lends a buffer
// again to the next frame of about its size and drops it after idling.
// Allocating large frames per request left them to the garbage collector,
// which let the heap reach twice queued.max.request.bytes (20 connections
// of 100 MiB frames took 1 GiB with 512 MiB queued); keeping them by
// power-of-two class held twice their size for as long as the pool lived.
type framePool struct {
	classes [12]sync.Pool // 512 B .. 1 MiB
	big     bigbuf.Pool
	// limit bounds the large buffers held, lent and idle: the request
	// budget's size (zero: none kept idle).
	limit int64
}

const pooledMax = 1 << 20

func sizeClass(n int) int {
	c := 0
	for (1 << (c + 9)) < n {
		c++
	}
	return c
}

func (p *framePool) get(n int) *[]byte {
	if n > pooledMax {
		b := p.big.Get(n, p.limit)
		return &b
	}
	c := sizeClass(n)
	if b, ok := p.classes[c].Get().(*[]byte); ok {
		*b = (*b)[:n]
		return b
	}
	b := make([]byte, n, 1<<(c+9))
	return &b
}

func (p *framePool) put(b *[]byte) {
	if b == nil {
		return
	}
	if len(*b) > pooledMax {
		p.big.Put(*b)
		*b = nil
		return
	}
	c := sizeClass(cap(*b))
	if c < len(p.classes) && cap(*b) == 1<<(c+9) {
		p.classes[c].Put(b)
	}
}
