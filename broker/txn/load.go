package txn

import "errors"

// Loader rebuilds a partition's transactional ids from its records, in
// log order; the last record of an id wins and a tombstone forgets it.
type Loader struct {
	txns map[string]*Txn
	// Skipped counts records with a key version this package does not know.
	Skipped int
}

// NewLoader returns an empty loader.
func NewLoader() *Loader { return &Loader{txns: map[string]*Txn{}} }

// Apply folds one record in.
func (l *Loader) Apply(key, value []byte) error {
	id, err := DecodeKey(key)
	if errors.Is(err, ErrUnknownKey) {
		l.Skipped++
		return nil
	}
	if err != nil {
		return err
	}
	t, err := DecodeValue(id, value)
	if err != nil {
		return err
	}
	if t == nil {
		delete(l.txns, id)
		return nil
	}
	l.txns[id] = t
	return nil
}

// Txns returns the loaded transactional ids. Kafka never writes Dead (an
// expiry is a tombstone) or PrepareEpochFence (a fence is written as
// PrepareAbort); should a log hold them, a Dead id is dropped and a fence
// is taken as the open transaction it was fencing, which the timeout scan
// or the next InitProducerId aborts.
func (l *Loader) Txns() map[string]*Txn {
	for id, t := range l.txns {
		switch t.State {
		case Dead:
			delete(l.txns, id)
		case PrepareEpochFence:
			t.State = Ongoing
		}
	}
	return l.txns
}

// Prepared lists the loaded ids whose markers were being written when the
// previous coordinator stopped: the new one finishes them.
func Prepared(txns map[string]*Txn) []*Txn {
	var out []*Txn
	for _, t := range txns {
		if t.State.preparing() {
			out = append(out, t)
		}
	}
	return out
}
