package protocol

import "sync"

// framePool recycles request frame buffers by power-of-two size class, so a
// busy connection does not allocate a buffer per request.
type framePool struct {
	classes [28]sync.Pool
}

func sizeClass(n int) int {
	c := 0
	for (1 << (c + 9)) < n {
		c++
	}
	return c
}

func (p *framePool) get(n int) *[]byte {
	c := sizeClass(n)
	if c < len(p.classes) {
		if b, ok := p.classes[c].Get().(*[]byte); ok {
			*b = (*b)[:n]
			return b
		}
		b := make([]byte, n, 1<<(c+9))
		return &b
	}
	b := make([]byte, n)
	return &b
}

func (p *framePool) put(b *[]byte) {
	if b == nil {
		return
	}
	c := sizeClass(cap(*b))
	if c < len(p.classes) && cap(*b) == 1<<(c+9) {
		p.classes[c].Put(b)
	}
}
