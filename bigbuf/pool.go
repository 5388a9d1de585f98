package bigbuf

import (
	"runtime/debug"
	"slices"
	"sync"
	"time"
)

// Pool lends large buffers and takes them back for the next caller. A
// buffer allocated per use and dropped after it is garbage the collector
// finds late: the heap grows to about twice what is in use, and with
// hundreds of megabytes in use that is what bounds were meant to prevent.
// A Pool reuses instead, so what it holds stays within the bound its
// callers keep. The zero Pool keeps buffers for DefaultIdle.
type Pool struct {
	// Idle is how long a buffer waits for its next use before it is
	// dropped; zero means DefaultIdle.
	Idle time.Duration

	mu       sync.Mutex
	held     int64 // capacity of the buffers lent and idle
	idle     []idleBuf
	trimming bool
}

type idleBuf struct {
	b     []byte
	since time.Time
}

// DefaultIdle is how long a buffer idles before it is dropped.
const DefaultIdle = 10 * time.Second

// unit is the granule buffers are sized in, so similar sizes share one.
const unit = 1 << 20

// freeOSAfter is the bytes dropped at once above which the pool asks the
// runtime to hand memory back to the system now: the background scavenger
// takes minutes to return hundreds of megabytes.
const freeOSAfter = 64 << 20

// Round is the capacity lent for n bytes.
func Round(n int) int { return (n + unit - 1) &^ (unit - 1) }

// Get returns a buffer of length n and capacity Round(n) or up to a
// quarter more: an idle one when one fits, otherwise a new one, after
// dropping the oldest idle buffers until the pool holds at most limit
// bytes with it.
func (p *Pool) Get(n int, limit int64) []byte {
	size := Round(n)
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, ib := range p.idle {
		if c := cap(ib.b); c >= size && c <= size+size/4 {
			p.idle = slices.Delete(p.idle, i, i+1)
			return ib.b[:n]
		}
	}
	for len(p.idle) > 0 && p.held+int64(size) > limit {
		p.held -= int64(cap(p.idle[0].b))
		p.idle[0] = idleBuf{}
		p.idle = p.idle[1:]
	}
	p.held += int64(size)
	return make([]byte, n, size)
}

// Put takes back a buffer from Get.
func (p *Pool) Put(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.idle = append(p.idle, idleBuf{b: b[:0], since: time.Now()})
	if !p.trimming {
		p.trimming = true
		time.AfterFunc(p.idleFor(), p.trim)
	}
}

// Held is the capacity of the buffers lent and idle.
func (p *Pool) Held() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held
}

func (p *Pool) idleFor() time.Duration {
	if p.Idle > 0 {
		return p.Idle
	}
	return DefaultIdle
}

// trim drops the buffers idle for the idle time, hands their memory back
// to the system, and waits for the next ones to age.
func (p *Pool) trim() {
	p.mu.Lock()
	var dropped int64
	cut := time.Now().Add(-p.idleFor())
	for len(p.idle) > 0 && !p.idle[0].since.After(cut) {
		dropped += int64(cap(p.idle[0].b))
		p.idle[0] = idleBuf{}
		p.idle = p.idle[1:]
	}
	p.held -= dropped
	if len(p.idle) > 0 {
		time.AfterFunc(time.Until(p.idle[0].since.Add(p.idleFor())), p.trim)
	} else {
		p.trimming = false
	}
	p.mu.Unlock()
	if dropped >= freeOSAfter {
		debug.FreeOSMemory()
	}
}
