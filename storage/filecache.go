package storage

import (
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// DefaultFileCacheSize suits a process allowed 20,000 descriptors that also
// needs sockets.
const DefaultFileCacheSize = 4096

// FileCache bounds the descriptors a process holds for segment and index
// files. Files open lazily on first Pin and close when evicted; a pinned file
// is never closed, so the cache may exceed its capacity while everything is
// pinned and shrinks back as pins are released.
type FileCache struct {
	capacity int // 0: no bound

	mu      sync.Mutex
	entries map[string]*FileRef
	open    int
	// lru holds the open, unpinned files; head is the most recently used.
	lruHead, lruTail *FileRef
}

// FileRef is a pinned descriptor handed out by FileCache.Pin.
type FileRef struct {
	path       string
	f          *os.File
	pins       int
	detached   bool   // forgotten while pinned: close at the last Unpin
	onClosed   func() // runs after a detached file is closed
	prev, next *FileRef
}

// File returns the open file. It stays valid until the matching Unpin.
func (r *FileRef) File() *os.File { return r.f }

// NewFileCache returns a cache holding at most capacity unpinned open files;
// capacity <= 0 means no bound.
func NewFileCache(capacity int) *FileCache {
	return &FileCache{capacity: capacity, entries: make(map[string]*FileRef)}
}

// Open reports how many descriptors the cache holds, pinned or not.
func (c *FileCache) Open() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open
}

// Pin returns the open file for path, opening it read-write if needed. The
// file must already exist. Every Pin needs one Unpin.
func (c *FileCache) Pin(path string) (*FileRef, error) {
	c.mu.Lock()
	if r, ok := c.entries[path]; ok {
		if r.pins == 0 {
			c.unlink(r)
		}
		r.pins++
		c.mu.Unlock()
		return r, nil
	}
	c.mu.Unlock()

	// Open outside the lock: a slow disk must not stall every partition.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	c.mu.Lock()
	if r, ok := c.entries[path]; ok {
		// Another caller opened it meanwhile; keep theirs.
		if r.pins == 0 {
			c.unlink(r)
		}
		r.pins++
		c.mu.Unlock()
		_ = f.Close()
		return r, nil
	}
	r := &FileRef{path: path, f: f, pins: 1}
	c.entries[path] = r
	c.open++
	victims := c.evictLocked()
	c.mu.Unlock()
	closeAll(victims)
	return r, nil
}

// Unpin releases one Pin. The file stays cached for reuse unless it was
// forgotten meanwhile, in which case it is closed now.
func (c *FileCache) Unpin(r *FileRef) {
	c.mu.Lock()
	r.pins--
	if r.pins < 0 {
		c.mu.Unlock()
		panic("storage: FileRef unpinned more often than pinned")
	}
	if r.pins > 0 {
		c.mu.Unlock()
		return
	}
	if r.detached {
		c.open--
		c.mu.Unlock()
		_ = r.f.Close()
		if r.onClosed != nil {
			r.onClosed()
		}
		return
	}
	c.pushFront(r)
	victims := c.evictLocked()
	c.mu.Unlock()
	closeAll(victims)
}

// Forget drops path from the cache, typically because the file was renamed
// for deletion. An unpinned descriptor closes at once; a pinned one stays
// open for its holders and closes at the last Unpin. onClosed, if not nil,
// runs once the descriptor is closed (at once if the path was not open).
func (c *FileCache) Forget(path string, onClosed func()) {
	c.mu.Lock()
	r, ok := c.entries[path]
	if !ok {
		c.mu.Unlock()
		if onClosed != nil {
			onClosed()
		}
		return
	}
	delete(c.entries, path)
	if r.pins > 0 {
		r.detached = true
		r.onClosed = onClosed
		c.mu.Unlock()
		return
	}
	c.unlink(r)
	c.open--
	c.mu.Unlock()
	_ = r.f.Close()
	if onClosed != nil {
		onClosed()
	}
}

// evictLocked removes least recently used unpinned files beyond capacity and
// returns them for closing outside the lock.
func (c *FileCache) evictLocked() []*os.File {
	if c.capacity <= 0 {
		return nil
	}
	var victims []*os.File
	for c.open > c.capacity && c.lruTail != nil {
		r := c.lruTail
		c.unlink(r)
		delete(c.entries, r.path)
		c.open--
		victims = append(victims, r.f)
	}
	return victims
}

func (c *FileCache) pushFront(r *FileRef) {
	r.prev, r.next = nil, c.lruHead
	if c.lruHead != nil {
		c.lruHead.prev = r
	}
	c.lruHead = r
	if c.lruTail == nil {
		c.lruTail = r
	}
}

// unlink takes r out of the LRU list if it is there.
func (c *FileCache) unlink(r *FileRef) {
	if r.prev != nil {
		r.prev.next = r.next
	} else if c.lruHead == r {
		c.lruHead = r.next
	}
	if r.next != nil {
		r.next.prev = r.prev
	} else if c.lruTail == r {
		c.lruTail = r.prev
	}
	r.prev, r.next = nil, nil
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		_ = f.Close()
	}
}

// fdatasync is the default Options.Fsync: file data plus the metadata needed
// to read it back, without a journal commit for timestamps.
func fdatasync(f *os.File) error {
	if err := unix.Fdatasync(int(f.Fd())); err != nil {
		return fmt.Errorf("fdatasync %s: %w", f.Name(), err)
	}
	return nil
}
