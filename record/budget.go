package record

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"spool/bigbuf"
)

// ErrBudget reports a batch that could not get room to inflate in time:
// the process is already inflating as much as its budget allows.
var ErrBudget = errors.New("no room to inflate records now")

// Budget bounds the memory of records being inflated at once across a
// process, so many connections each sending batches that inflate to
// MaxInflated cannot add up to more memory than the machine has. It lends
// the memory itself: small loans come from the scratch buffer pool and are
// only counted, large ones are the budget's own buffers, given back after
// use and lent again. Reusing them is what keeps the bound: a buffer
// allocated per batch and dropped after it is garbage the collector finds
// late, and eight connections of 200 MiB batches lending 256 MiB at a time
// took the heap past 3 GiB that way. Large buffers idle for ten seconds are
// dropped and their memory handed back to the system. A nil Budget bounds
// nothing and lends freshly allocated memory.
type Budget struct {
	mu    sync.Mutex
	max   int64
	lent  int64 // bytes lent now, large and small
	small int64 // bytes lent now besides large buffers
	big   bigbuf.Pool
	freed chan struct{} // closed and replaced whenever bytes are given back
}

// smallLoan is the largest loan served from the scratch buffer pool.
const smallLoan = maxPooled

// NewBudget returns a budget of max bytes.
func NewBudget(max int64) *Budget {
	return &Budget{max: max, freed: make(chan struct{})}
}

// Max is the budget's size.
func (b *Budget) Max() int64 {
	if b == nil {
		return 0
	}
	return b.max
}

// InUse is the bytes lent now.
func (b *Budget) InUse() int64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lent
}

// Held is the capacity of the budget's own buffers, lent and idle.
func (b *Budget) Held() int64 {
	if b == nil {
		return 0
	}
	return b.big.Held()
}

// Loan is memory lent by a Budget to inflate one batch into: a buffer of
// at least the size asked for, plus bytes counted for a decoder's own
// window. Return gives it back; the zero Loan returns nothing.
type Loan struct {
	b      *Budget
	buf    []byte  // a large buffer, the budget's own
	pooled *[]byte // a small buffer from the scratch pool
	// counted is the bytes the loan holds of the budget: its buffer's and
	// a decoder window's (extra).
	counted, extra int64
}

// Buf is the loan's buffer, empty.
func (l *Loan) Buf() []byte {
	if l.pooled != nil {
		return (*l.pooled)[:0]
	}
	return l.buf[:0]
}

// lend takes n bytes of buffer and extra counted bytes, waiting while
// they do not fit until ctx ends or deadline passes (zero: no deadline).
// One loan may take more than the whole budget when nothing else is lent,
// so a budget smaller than MaxInflated slows big batches down but never
// refuses them for good. The timer exists only once a caller has to wait.
func (b *Budget) lend(ctx context.Context, deadline time.Time, n int, extra int64) (Loan, error) {
	if b == nil {
		return newLoan(nil, n), nil
	}
	cost := int64(roundLoan(n)) + extra
	var timer <-chan time.Time
	for {
		b.mu.Lock()
		if b.lent+cost <= b.max || b.lent == 0 {
			l := b.lendLocked(n, extra)
			b.lent += l.counted
			b.mu.Unlock()
			return l, nil
		}
		wait := b.freed
		b.mu.Unlock()
		if timer == nil && !deadline.IsZero() {
			t := time.NewTimer(time.Until(deadline))
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-wait:
		case <-timer:
			return Loan{}, fmt.Errorf("%w: %d of %d bytes in use", ErrBudget, b.InUse(), b.max)
		case <-ctx.Done():
			return Loan{}, fmt.Errorf("%w: %w", ErrBudget, ctx.Err())
		}
	}
}

// lendLocked makes a loan admitted under b.mu: a small one from the pool,
// a large one from an idle buffer of about its size, or a new buffer once
// idle ones are dropped to make room for it.
func (b *Budget) lendLocked(n int, extra int64) Loan {
	size := roundLoan(n)
	if size <= smallLoan {
		l := newLoan(b, n)
		l.counted, l.extra = int64(size)+extra, extra
		b.small += l.counted
		return l
	}
	b.small += extra
	buf := b.big.Get(n, b.max-b.small)[:0]
	return Loan{b: b, buf: buf, counted: int64(cap(buf)) + extra, extra: extra}
}

// newLoan is a loan of a pooled buffer for a small n, a new one otherwise.
func newLoan(b *Budget, n int) Loan {
	if n > smallLoan {
		return Loan{b: b, buf: make([]byte, 0, n)}
	}
	p := GetBuffer()
	if cap(*p) < n {
		*p = slices.Grow((*p)[:0], n)
	}
	return Loan{b: b, pooled: p}
}

// roundLoan is the size lent for n bytes: small loans are counted exactly,
// large ones rounded as bigbuf lends them.
func roundLoan(n int) int {
	if n <= smallLoan {
		return n
	}
	return bigbuf.Round(n)
}

// Return gives the loan back.
func (l *Loan) Return() {
	if l.pooled != nil {
		PutBuffer(l.pooled)
	}
	if l.b != nil {
		l.b.giveBack(l)
	}
	*l = Loan{}
}

// giveBack returns a loan's bytes, keeping its large buffer idle for the
// next loan.
func (b *Budget) giveBack(l *Loan) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lent -= l.counted
	if l.buf != nil {
		b.small -= l.extra
		b.big.Put(l.buf)
	} else {
		b.small -= l.counted
	}
	close(b.freed)
	b.freed = make(chan struct{})
}
