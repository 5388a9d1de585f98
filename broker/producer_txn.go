package broker

// completedTxn is a transaction a marker ended in one partition: its
// producer, first data offset and the marker's offset.
type completedTxn struct {
	producerID  int64
	first, last int64
	aborted     bool
}

// endTxn applies a commit or abort marker written at offset off. It
// returns the transaction the marker ended, if the producer had one open
// here (a producer added to a transaction may never have written to this
// partition). A marker at a newer epoch (the coordinator fencing a
// producer) moves the producer to it, so its old epoch is refused from now.
func (s *producerStates) endTxn(producerID int64, epoch int16, coordEpoch int32, off, tsMs int64, commit bool) (completedTxn, bool) {
	e := s.entry(producerID, epoch)
	e.coordEpoch = max(e.coordEpoch, coordEpoch)
	e.lastTimestamp = max(e.lastTimestamp, tsMs)
	if e.txnFirst < 0 {
		return completedTxn{}, false
	}
	ct := completedTxn{producerID: producerID, first: e.txnFirst, last: off, aborted: !commit}
	e.txnFirst = -1
	delete(s.ongoing, producerID)
	return ct, true
}

// firstOngoing is the first offset of the oldest open transaction, or -1.
func (s *producerStates) firstOngoing() int64 {
	first := int64(-1)
	for _, off := range s.ongoing {
		if first < 0 || off < first {
			first = off
		}
	}
	return first
}

// isOpen reports whether the producer has a transaction open here.
func (s *producerStates) isOpen(producerID int64) bool {
	_, ok := s.ongoing[producerID]
	return ok
}
