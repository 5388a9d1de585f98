package broker

import (
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/twmb/franz-go/pkg/kerr"

	"spool/record"
	"spool/storage"
)

// appendOutcome is the result of appending one produced batch as leader.
type appendOutcome struct {
	base, last    int64 // offsets of the batch, or of the batch it repeats
	logAppendTime int64 // -1 unless the topic uses LogAppendTime
	err           *kerr.Error
	msg           string
	// snapshotErr reports a failed producer-state snapshot; the append
	// itself succeeded.
	snapshotErr error
}

// appendParams carries what an append needs from the request and configs.
type appendParams struct {
	appendTimeMs int64 // >= 0 stamps LogAppendTime; -1 keeps CreateTime
	nowMs        int64
	expiryMs     int64 // producer.id.expiration.ms
}

// appendAsLeader checks the batch against the producer state and appends
// it, so offsets, producer state and the high watermark advance together.
// The batch must already be validated; its header fields are patched in
// place.
func (p *partition) appendAsLeader(batch []byte, h record.Header, ap appendParams) appendOutcome {
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	isLeader, epoch := p.leadership()
	if !isLeader {
		return appendOutcome{err: kerr.NotLeaderForPartition, msg: "this broker does not lead the partition"}
	}
	idempotent := h.ProducerID >= 0
	if idempotent {
		c := p.producers.check(h)
		if c.err != nil {
			return appendOutcome{err: c.err, msg: c.msg}
		}
		if c.dup != nil {
			out := appendOutcome{base: c.dup.firstOffset, last: c.dup.lastOffset, logAppendTime: -1}
			if ap.appendTimeMs >= 0 {
				out.logAppendTime = c.dup.maxTimestamp
			}
			return out
		}
	}
	segs := p.log.NumSegments()
	res, err := p.log.Append(batch, epoch, ap.appendTimeMs)
	if err != nil {
		if errors.Is(err, storage.ErrClosed) {
			return appendOutcome{err: kerr.NotLeaderForPartition, msg: "the partition is closing"}
		}
		return appendOutcome{err: kerr.KafkaStorageError, msg: err.Error()}
	}
	if idempotent {
		h.BaseOffset = res.FirstOffset
		if ap.appendTimeMs >= 0 {
			h.MaxTimestamp = ap.appendTimeMs
		}
		p.noteDataBatch(h)
	}
	p.epochs.Assign(epoch, res.FirstOffset)
	if err := p.epochs.Persist(); err != nil {
		return appendOutcome{err: kerr.KafkaStorageError, msg: err.Error()}
	}
	if !p.refreshHighWatermark() {
		// Followers wait for new records, not for the watermark.
		p.notifyWaiters()
	}
	out := appendOutcome{base: res.FirstOffset, last: res.LastOffset, logAppendTime: res.LogAppendTime}
	if p.log.NumSegments() > segs {
		// Kafka snapshots on roll too: recovery then replays at most about
		// one segment of batch headers.
		p.producers.expire(ap.nowMs, ap.expiryMs)
		out.snapshotErr = writeProducerSnapshot(p.log.Dir(), res.LastOffset+1, p.producers, p.log.SyncFile)
		if out.snapshotErr == nil {
			p.snapshotAt = res.LastOffset + 1
		}
	}
	return out
}

// snapshotProducers writes the producer state complete up to the log end,
// durably, for a close: the next open then replays nothing.
func (p *partition) snapshotProducers() error { return p.snapshotProducersWith(p.log.SyncFile) }

// snapshotProducersWith is snapshotProducers with syncFile making the file
// durable; nil writes it without an fsync, for a broker stopping, whose
// closeAll syncfs's the log dir before recording the clean shutdown.
func (p *partition) snapshotProducersWith(syncFile func(*os.File) error) error {
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	// An idle partition already has what it needs: a snapshot at its end,
	// or nothing to replay at all. Skipping them keeps a clean shutdown of
	// many partitions from writing a file each for nothing.
	leo := p.log.LogEndOffset()
	if leo == p.snapshotAt || (leo == p.log.LogStartOffset() && p.producers.len() == 0) {
		return nil
	}
	if err := writeProducerSnapshot(p.log.Dir(), leo, p.producers, syncFile); err != nil {
		return err
	}
	p.snapshotAt = leo
	return nil
}

// loadProducerState rebuilds the producer state when the partition opens:
// the newest snapshot at or below the log end, then the headers of every
// batch after it. Snapshots beyond the log end (the log lost its tail in a
// crash) are removed, as are unreadable ones.
func (p *partition) loadProducerState() error { return p.loadProducers(false, nil) }

// loadProducers is loadProducerState; fresh says the partition's
// directory was just created, so there are no snapshots to look for, and
// listing, when not nil, holds the directory's names (storage's
// TakeListing), so it need not be listed again.
func (p *partition) loadProducers(fresh bool, listing map[string]bool) error {
	dir, leo := p.log.Dir(), p.log.LogEndOffset()
	var offs []int64
	var err error
	switch {
	case fresh:
	case listing != nil:
		names := make([]string, 0, len(listing))
		for n := range listing {
			names = append(names, n)
		}
		offs = snapshotOffsets(names)
	default:
		if offs, err = listSnapshots(dir); err != nil {
			return err
		}
	}
	from := int64(-1)
	for i := len(offs) - 1; i >= 0 && from < 0; i-- {
		path := snapshotPath(dir, offs[i])
		if offs[i] <= leo {
			if st, err := readProducerSnapshot(path); err == nil {
				p.producers, from = st, offs[i]
				break
			}
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove stale producer snapshot: %w", err)
		}
	}
	if from < 0 {
		p.producers = newProducerStates()
	}
	p.snapshotAt = from
	p.unreplicated = nil
	err = p.replayProducers(max(from, p.log.LogStartOffset()), leo)
	p.publishTxns()
	return err
}

func readProducerSnapshot(path string) (*producerStates, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	st, err := decodeProducerStates(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// replayProducers folds the headers of the batches in [from, to) into the
// producer state, reading only the 61-byte headers.
func (p *partition) replayProducers(from, to int64) error {
	var hdr [record.HeaderLen]byte
	for off := from; off < to; {
		sl, err := p.log.Read(off, math.MaxInt32, to, true)
		if err != nil {
			return fmt.Errorf("replay producer state from %d: %w", off, err)
		}
		if sl.Empty() {
			return nil
		}
		next, err := p.replaySlice(&sl, hdr[:], off)
		sl.Release()
		if err != nil {
			return err
		}
		off = next
	}
	return nil
}

// replaySlice applies each batch header in sl that ends at or after from and
// returns the offset after the last batch. Markers are read whole: they
// end transactions and re-index aborted ones a crash may have lost.
func (p *partition) replaySlice(sl *storage.Slice, hdr []byte, from int64) (int64, error) {
	f, next := sl.File(), from
	for pos, end := sl.Pos(), sl.Pos()+int64(sl.Len()); pos < end; {
		if _, err := f.ReadAt(hdr, pos); err != nil {
			return 0, fmt.Errorf("replay producer state: read %s at %d: %w", f.Name(), pos, err)
		}
		h, err := record.ParseHeader(hdr)
		if err == nil && h.TotalSize() < record.HeaderLen {
			err = fmt.Errorf("%w: batch length %d", storage.ErrLogCorrupt, h.BatchLength)
		}
		if err != nil {
			return 0, fmt.Errorf("replay producer state: %s at %d: %w", f.Name(), pos, err)
		}
		if h.NextOffset() > from && h.ProducerID >= 0 {
			if err := p.replayBatch(f, pos, h); err != nil {
				return 0, err
			}
		}
		next = max(next, h.NextOffset())
		pos += int64(h.TotalSize())
	}
	return next, nil
}

// replayBatch folds one batch found on replay into the producer state.
func (p *partition) replayBatch(f *os.File, pos int64, h record.Header) error {
	if !h.IsControl() {
		p.producers.update(h)
		return nil
	}
	batch := make([]byte, h.TotalSize())
	if _, err := f.ReadAt(batch, pos); err != nil {
		return fmt.Errorf("replay producer state: read marker in %s at %d: %w", f.Name(), pos, err)
	}
	if err := p.completeTxn(h, batch); err != nil {
		return fmt.Errorf("replay marker at offset %d: %w", h.BaseOffset, err)
	}
	return nil
}
