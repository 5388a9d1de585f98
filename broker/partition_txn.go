package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"spool/record"
	"spool/storage"
)

// txnRange is a transaction's first data offset and its marker's offset.
type txnRange struct{ first, last int64 }

// txnView is what the last stable offset needs, published for lock-free
// reads by fetches: nil when no transaction holds it back.
type txnView struct {
	ongoing      int64 // first offset of the oldest open transaction, -1 if none
	unreplicated []txnRange
}

// lastStableOffset is the first offset a read_committed consumer may not
// see: the high watermark, or the start of the oldest transaction that is
// open or whose marker is not yet replicated to every ISR member.
func (p *partition) lastStableOffset() int64 {
	hw := p.HighWatermark()
	v := p.txns.Load()
	if v == nil {
		return hw
	}
	lso := hw
	if v.ongoing >= 0 {
		lso = min(lso, v.ongoing)
	}
	for _, r := range v.unreplicated {
		if r.last >= hw {
			lso = min(lso, r.first)
		}
	}
	return lso
}

// publishTxns refreshes the view after the transactions changed, with
// appendMu held, dropping ended transactions the high watermark covers.
func (p *partition) publishTxns() {
	hw := p.HighWatermark()
	kept := p.unreplicated[:0]
	for _, r := range p.unreplicated {
		if r.last >= hw {
			kept = append(kept, r)
		}
	}
	clear(p.unreplicated[len(kept):])
	p.unreplicated = kept
	ongoing := p.producers.firstOngoing()
	if ongoing < 0 && len(kept) == 0 {
		p.txns.Store(nil)
		return
	}
	p.txns.Store(&txnView{ongoing: ongoing, unreplicated: append([]txnRange(nil), kept...)})
}

// noteDataBatch records an appended data batch of a producer, with
// appendMu held; a transactional batch may open a transaction here.
func (p *partition) noteDataBatch(h record.Header) {
	opens := h.IsTransactional() && !p.producers.isOpen(h.ProducerID)
	p.producers.update(h)
	if opens {
		p.publishTxns()
	}
}

// completeTxn finishes what a marker at off means for the log, with
// appendMu held: the producer's transaction ends, an aborted one enters the
// aborted transaction index, and the view is republished. Leader,
// follower and recovery share it.
func (p *partition) completeTxn(h record.Header, batch []byte) error {
	ctl, err := record.ParseMarker(batch)
	if err != nil {
		return err
	}
	if ctl.Type != record.ControlCommit && ctl.Type != record.ControlAbort {
		return nil // a control record type this broker does not know
	}
	ct, ok := p.producers.endTxn(h.ProducerID, h.ProducerEpoch, ctl.CoordinatorEpoch,
		h.BaseOffset, h.MaxTimestamp, ctl.Type == record.ControlCommit)
	if !ok {
		return nil
	}
	p.unreplicated = append(p.unreplicated, txnRange{ct.first, ct.last})
	if ct.aborted {
		// Indexed before the view moves the stable offset past the
		// marker, so no read_committed fetch or clean sees the aborted
		// records as committed. The early stop of lookups needs the
		// stable offset once this transaction ended: the oldest still
		// open, else past the marker.
		lso := p.producers.firstOngoing()
		if lso < 0 {
			lso = ct.last + 1
		}
		err := p.log.AddAbortedTxn(storage.AbortedTxn{
			ProducerID: ct.producerID, FirstOffset: ct.first, LastOffset: ct.last, LastStableOffset: lso,
		})
		if err != nil {
			// Keep publishing the transaction as open: read_committed
			// readers stall rather than see aborted records.
			return err
		}
	}
	p.publishTxns()
	return nil
}

// txnMarker is one commit or abort marker for one partition.
type txnMarker struct {
	producerID       int64
	producerEpoch    int16
	commit           bool
	coordinatorEpoch int32
}

// appendMarker writes a transaction marker as leader and waits until it is
// committed (and on disk when the leader is the only ISR member), as an
// acks=all produce does. It returns a Kafka error code, 0 on success.
func (p *partition) appendMarker(ctx context.Context, m txnMarker) (int16, error) {
	off, code, err := p.appendMarkerLocked(m)
	if code != 0 {
		return code, err
	}
	upTo := off + 1
	if err := p.awaitCommitted(ctx, upTo); err != nil {
		return markerWaitCode(err), err
	}
	if len(p.inSyncReplicas()) <= 1 {
		if err := p.log.Sync(ctx, upTo); err != nil {
			return markerWaitCode(err), err
		}
	}
	return 0, nil
}

func markerWaitCode(err error) int16 {
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return kerr.RequestTimedOut.Code
	case errors.Is(err, storage.ErrClosed):
		return kerr.NotLeaderForPartition.Code
	}
	return kerr.KafkaStorageError.Code
}

func (p *partition) appendMarkerLocked(m txnMarker) (int64, int16, error) {
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	isLeader, epoch := p.leadership()
	if !isLeader {
		return 0, kerr.NotLeaderForPartition.Code, nil
	}
	if e := p.producers.m[m.producerID]; e != nil {
		if m.producerEpoch < e.epoch {
			return 0, kerr.InvalidProducerEpoch.Code, fmt.Errorf(
				"marker epoch %d of producer %d is older than %d", m.producerEpoch, m.producerID, e.epoch)
		}
		if m.coordinatorEpoch < e.coordEpoch {
			return 0, kerr.TransactionCoordinatorFenced.Code, fmt.Errorf(
				"coordinator epoch %d of producer %d is older than %d", m.coordinatorEpoch, m.producerID, e.coordEpoch)
		}
	}
	batch := record.AppendMarker(nil, m.producerID, m.producerEpoch, m.commit, m.coordinatorEpoch, time.Now().UnixMilli())
	res, err := p.log.Append(batch, epoch, -1)
	if err != nil {
		if errors.Is(err, storage.ErrClosed) {
			return 0, kerr.NotLeaderForPartition.Code, err
		}
		return 0, kerr.KafkaStorageError.Code, err
	}
	h, err := record.ParseHeader(batch)
	if err != nil {
		return 0, kerr.KafkaStorageError.Code, err
	}
	h.BaseOffset = res.FirstOffset
	if err := p.completeTxn(h, batch); err != nil {
		// The marker is in the log but its abort is not indexed: the
		// replica cannot serve read_committed correctly.
		return 0, kerr.KafkaStorageError.Code, fmt.Errorf("index aborted transaction: %w", err)
	}
	p.epochs.Assign(epoch, res.FirstOffset)
	if err := p.epochs.Persist(); err != nil {
		return 0, kerr.KafkaStorageError.Code, err
	}
	if !p.refreshHighWatermark() {
		p.notifyWaiters()
	}
	return res.FirstOffset, 0, nil
}

// abortedListBound is how many aborted transactions a read_committed fetch
// may list before the list is cut to the records actually returned.
const abortedListBound = 16

// abortedIn lists the aborted transactions overlapping the records of sl,
// read from offset with the stable offset lso as bound. Most fetches list
// few and take the list as is; a long one (a consumer far behind many
// aborts) is cut, as Kafka cuts it, at the end of the returned batches,
// which costs reading their headers.
func abortedIn(l *storage.Log, sl *storage.Slice, offset, lso int64) ([]storage.AbortedTxn, error) {
	aborted, err := l.AbortedTxns(nil, offset, lso)
	if err != nil || len(aborted) <= abortedListBound {
		return aborted, err
	}
	end, err := sliceEnd(sl)
	if err != nil {
		return nil, err
	}
	kept := aborted[:0]
	for _, a := range aborted {
		if a.FirstOffset < end {
			kept = append(kept, a)
		}
	}
	return kept, nil
}

// sliceEnd is the offset after the last batch of sl, from its headers.
func sliceEnd(sl *storage.Slice) (int64, error) {
	var hdr [record.HeaderLen]byte
	f, end := sl.File(), int64(-1)
	for pos, stop := sl.Pos(), sl.Pos()+int64(sl.Len()); pos < stop; {
		if _, err := f.ReadAt(hdr[:], pos); err != nil {
			return 0, fmt.Errorf("read batch header in %s at %d: %w", f.Name(), pos, err)
		}
		h, err := record.ParseHeader(hdr[:])
		if err != nil || h.TotalSize() < record.HeaderLen {
			return 0, fmt.Errorf("%w: batch header in %s at %d", storage.ErrLogCorrupt, f.Name(), pos)
		}
		end = h.NextOffset()
		pos += int64(h.TotalSize())
	}
	return end, nil
}
