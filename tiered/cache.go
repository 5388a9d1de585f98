package tiered

import (
	"container/list"
	"sync"
)

// Cache holds remote chunks (fixed-size ranges of segment objects, and
// whole offset indexes) in memory up to a byte budget, dropping the least
// recently used first. Objects never change once written (a segment id
// is never reused), so entries need no invalidation.
type Cache struct {
	mu    sync.Mutex
	max   int64
	used  int64
	ll    *list.List // front: most recent
	items map[cacheKey]*list.Element
	stats *Stats
}

type cacheKey struct {
	object string
	chunk  int64 // -1 for a whole object
}

type cacheEntry struct {
	key  cacheKey
	data []byte
}

func newCache(max int64, stats *Stats) *Cache {
	return &Cache{max: max, ll: list.New(), items: map[cacheKey]*list.Element{}, stats: stats}
}

func (c *Cache) get(k cacheKey) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		c.ll.MoveToFront(e)
		c.stats.CacheHits.Add(1)
		return e.Value.(*cacheEntry).data, true
	}
	c.stats.CacheMisses.Add(1)
	return nil, false
}

func (c *Cache) has(k cacheKey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.items[k]
	return ok
}

func (c *Cache) put(k cacheKey, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if int64(len(data)) > c.max {
		return
	}
	if e, ok := c.items[k]; ok {
		c.ll.MoveToFront(e)
		return
	}
	c.items[k] = c.ll.PushFront(&cacheEntry{key: k, data: data})
	c.used += int64(len(data))
	for c.used > c.max {
		e := c.ll.Back()
		ce := e.Value.(*cacheEntry)
		c.ll.Remove(e)
		delete(c.items, ce.key)
		c.used -= int64(len(ce.data))
	}
}

// Used is the bytes cached now.
func (c *Cache) Used() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}
