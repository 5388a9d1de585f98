package broker

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"spool/broker/group"
)

// txnOutcome is a transaction marker that reached a __consumer_offsets
// partition.
type txnOutcome struct {
	producerID int64
	commit     bool
}

// completeTxn applies the outcome of producerID's transaction to the
// groups of __consumer_offsets partition `partition`: commit makes its
// pending offsets the committed ones (unless a commit later in the log
// already replaced them), abort drops them. Call it once the marker is
// durable, before answering WriteTxnMarkers: the producer's next
// transaction must not reach the partition before this runs. A marker
// that arrives while the partition's groups load is applied after the
// load.
func (c *coordinator) completeTxn(partition int32, producerID int64, commit bool) {
	c.mu.Lock()
	sh := c.shards[partition]
	c.mu.Unlock()
	if sh == nil {
		// Not led here: the leader's load replays the marker.
		return
	}
	sh.mu.Lock()
	if sh.closed {
		sh.mu.Unlock()
		return
	}
	if !sh.installed {
		sh.early = append(sh.early, txnOutcome{producerID, commit})
		sh.mu.Unlock()
		return
	}
	cells := sh.takeTxnCells(producerID)
	sh.mu.Unlock()
	c.applyTxn(cells, txnOutcome{producerID, commit})
}

// applyTxn feeds a marker to the groups that may hold its offsets.
func (c *coordinator) applyTxn(cells []*cell, o txnOutcome) {
	for _, cl := range cells {
		c.onCell(cl, func(g *group.Group, _ time.Time) group.Out { return g.CompleteTxn(o.producerID, o.commit) })
	}
}

// takeTxnCells removes and returns the cells that may hold producerID's
// pending offsets; sh.mu must be held.
func (sh *shard) takeTxnCells(producerID int64) []*cell {
	ids := sh.txnGroups[producerID]
	delete(sh.txnGroups, producerID)
	cells := make([]*cell, 0, len(ids))
	for id := range ids {
		if cl := sh.cells[id]; cl != nil {
			cells = append(cells, cl)
		}
	}
	return cells
}

// noteTxn records that groupID holds pending offsets of producerID.
func (sh *shard) noteTxn(producerID int64, groupID string) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	ids := sh.txnGroups[producerID]
	if ids == nil {
		ids = map[string]struct{}{}
		sh.txnGroups[producerID] = ids
	}
	ids[groupID] = struct{}{}
}

// install makes the loaded groups the shard's and returns the markers
// that arrived during the load, to apply now.
func (sh *shard) install(cells map[string]*cell) (early []txnOutcome, ok bool) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.closed {
		return nil, false
	}
	sh.cells = cells
	for id, cl := range cells {
		for _, pid := range cl.g.TxnProducers() {
			ids := sh.txnGroups[pid]
			if ids == nil {
				ids = map[string]struct{}{}
				sh.txnGroups[pid] = ids
			}
			ids[id] = struct{}{}
		}
	}
	sh.installed = true
	early, sh.early = sh.early, nil
	return early, true
}

// txnOffsetsAppendError maps a failed append of a TxnOffsetCommit batch: the
// producer's own errors (a stale epoch, a fenced producer) reach the
// client as they are, as in Kafka; the rest as for OffsetCommit.
func txnOffsetsAppendError(err *kerr.Error) *kerr.Error {
	switch err {
	case kerr.InvalidProducerEpoch, kerr.ProducerFenced, kerr.InvalidTxnState,
		kerr.InvalidProducerIDMapping, kerr.TransactionCoordinatorFenced:
		return err
	}
	return appendError(err)
}
