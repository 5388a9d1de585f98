package protocol

import (
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// framePool recycles request frame buffers up to pooledMax bytes by
// power-of-two size class, so a busy connection does not allocate a buffer
// per request. Larger frames are allocated at their exact size and left to
// the garbage collector: keeping them would hold up to twice their size per
// class for as long as the pool lives (20 connections sending 100 MiB
// frames once held 2 GiB a minute later).
type framePool struct {
	classes [12]sync.Pool // 512 B .. 1 MiB
	// big is the bytes of unpooled frames in use; bigPeak is the most
	// they reached since memory was last handed back to the system.
	big      atomic.Int64
	bigPeak  atomic.Int64
	lastFree atomic.Int64 // unix nanoseconds
	pending  atomic.Bool
}

const pooledMax = 1 << 20

// returnAfter is the peak of large frames above which the pool hands the
// memory back to the system once they are all released.
const returnAfter = 64 << 20

func sizeClass(n int) int {
	c := 0
	for (1 << (c + 9)) < n {
		c++
	}
	return c
}

func (p *framePool) get(n int) *[]byte {
	if n > pooledMax {
		b := make([]byte, n)
		peak := p.big.Add(int64(n))
		for {
			old := p.bigPeak.Load()
			if peak <= old || p.bigPeak.CompareAndSwap(old, peak) {
				break
			}
		}
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
		if p.big.Add(-int64(len(*b))) == 0 && p.bigPeak.Load() >= returnAfter {
			p.giveBack()
		}
		*b = nil
		return
	}
	c := sizeClass(cap(*b))
	if c < len(p.classes) && cap(*b) == 1<<(c+9) {
		p.classes[c].Put(b)
	}
}

// giveBack returns freed memory to the system after a burst of large
// frames, at most every few seconds: the runtime's background scavenger
// takes minutes to return gigabytes, and an operator watches RSS.
func (p *framePool) giveBack() {
	if !p.pending.CompareAndSwap(false, true) {
		return
	}
	wait := time.Duration(p.lastFree.Load() + int64(giveBackEvery) - time.Now().UnixNano())
	time.AfterFunc(max(wait, 0), func() {
		p.bigPeak.Store(0)
		debug.FreeOSMemory()
		p.lastFree.Store(time.Now().UnixNano())
		p.pending.Store(false)
	})
}

const giveBackEvery = 5 * time.Second
