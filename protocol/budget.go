package protocol

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
)

// budget bounds the bytes of request frames held at once, Kafka's
// queued.max.request.bytes: a connection whose next frame does not fit
// stops reading (TCP pushes back on its sender) until answers free room,
// instead of allocating. Waiters are not served in order: a small frame
// may pass a large one that is still waiting.
type budget struct {
	mu    sync.Mutex
	max   int64
	used  int64
	freed chan struct{} // closed and replaced whenever bytes are released
}

func newBudget(max int64) *budget {
	return &budget{max: max, freed: make(chan struct{})}
}

// acquire takes n bytes, waiting until they fit or stop closes. A frame
// larger than the whole budget is let through alone, so a budget set below
// socket.request.max.bytes slows such frames down but never hangs them.
func (b *budget) acquire(n int64, stop <-chan struct{}) bool {
	for {
		b.mu.Lock()
		if b.used+n <= b.max || b.used == 0 {
			b.used += n
			b.mu.Unlock()
			return true
		}
		wait := b.freed
		b.mu.Unlock()
		select {
		case <-wait:
		case <-stop:
			return false
		}
	}
}

func (b *budget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}

// inUse is the bytes held now.
func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// QueuedBytes is queued.max.request.bytes for a process: the configured
// value when positive, otherwise (Kafka's default -1 means unbounded)
// an eighth of the memory the process may use (GOMEMLIMIT, the cgroup's
// memory.max, or physical memory), at least two frames of maxRequest and at
// most 1 GiB.
func QueuedBytes(configured int64, maxRequest int) int64 {
	if configured > 0 {
		return configured
	}
	return min(max(memoryAvailable()/8, 2*int64(maxRequest)), 1<<30)
}

// InflatedBytes is queued.max.inflated.bytes for a process: the configured
// value when positive, otherwise a thirty-second of the memory available,
// between 256 MiB (one batch at record.MaxInflated) and 512 MiB.
func InflatedBytes(configured int64) int64 {
	if configured > 0 {
		return configured
	}
	return min(max(memoryAvailable()/32, 256<<20), 512<<20)
}

// memoryAvailable is the smallest of GOMEMLIMIT, the cgroup v2 limit and
// physical memory.
func memoryAvailable() int64 {
	limit := debug.SetMemoryLimit(-1) // reads without changing
	if total, ok := physicalMemory(); ok {
		limit = min(limit, total)
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 {
			limit = min(limit, n)
		}
	}
	return limit
}
