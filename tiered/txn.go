package tiered

import (
	"context"

	"spool/storage"
)

// AbortedTxns lists the aborted transactions of remote segments ending at
// or after from whose abort marker is at or after from, for a
// read_committed fetch. A transaction's entry sits in the .txnindex of the
// segment holding its marker, which may be any later segment; only
// segments that had entries are read, and their indexes stay cached.
func (t *Tier) AbortedTxns(ctx context.Context, p *Partition, from int64) ([]storage.AbortedTxn, error) {
	var out []storage.AbortedTxn
	for _, s := range p.Segments() {
		if !s.TxnIndex || s.EndOffset < from {
			continue
		}
		key := p.key.object(s, sufTxn)
		k := cacheKey{key, -1}
		b, ok := t.cache.get(k)
		if !ok {
			var err error
			if b, err = t.store.Get(ctx, key); err != nil {
				return nil, err
			}
			t.cache.put(k, b)
		}
		for _, a := range storage.DecodeTxnIndex(b) {
			if a.LastOffset >= from {
				out = append(out, a)
			}
		}
	}
	return out, nil
}
