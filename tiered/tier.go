package tiered

import (
	"context"
	"sync"
)

// Tier is the broker's remote tier: the store, the chunk cache, and the
// remote view of each partition it hosts.
type Tier struct {
	settings Settings
	store    *Store
	cache    *Cache
	stats    *Stats
	// readers bounds remote reads at once (remote.log.reader.threads).
	readers chan struct{}

	mu    sync.Mutex
	parts map[PartitionKey]*Partition
}

// New connects the tier; nothing is read from the bucket until a
// partition is loaded.
func New(ctx context.Context, s Settings) (*Tier, error) {
	stats := &Stats{}
	store, err := NewStore(ctx, s, stats)
	if err != nil {
		return nil, err
	}
	return &Tier{
		settings: s, store: store, stats: stats, cache: newCache(s.CacheBytes, stats),
		readers: make(chan struct{}, s.Readers), parts: map[PartitionKey]*Partition{},
	}, nil
}

// Settings are the tier's configs.
func (t *Tier) Settings() Settings { return t.settings }

// Stats are the tier's counters.
func (t *Tier) Stats() *Stats { return t.stats }

// Cache is the chunk cache.
func (t *Tier) Cache() *Cache { return t.cache }

// Partition returns the partition's remote view, creating an unloaded one.
func (t *Tier) Partition(k PartitionKey) *Partition {
	k.Prefix = t.settings.Prefix
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.parts[k]
	if p == nil {
		p = &Partition{key: k, store: t.store}
		t.parts[k] = p
	}
	return p
}

// Forget drops a partition's view (no longer hosted).
func (t *Tier) Forget(k PartitionKey) {
	k.Prefix = t.settings.Prefix
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.parts, k)
}
