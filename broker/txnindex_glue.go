package broker

import "spool/storage"

// TEMPORARY until storage's txn index lands.
func indexAbortedTxn(l *storage.Log, pid, first, last, lso int64) error { return nil }

// TEMPORARY until the group coordinator's transactional offsets land.
func (c *coordinator) completeTxn(partition int32, producerID int64, commit bool) {}

// TEMPORARY until storage's txn index lands.
func abortedTxnsOf(l *storage.Log, dst []abortedTxn, from, upTo int64) ([]abortedTxn, error) {
	return dst, nil
}
