package storage

import (
	"fmt"

	"spool/record"
)

// filter decides, batch by batch, what a clean keeps: the latest record of
// each key (per the offset map), tombstones until their delete horizon,
// transactions as cleaner_txn.go describes, and the header of each
// producer's last batch so idempotent producer state survives (Kafka keeps
// those as empty batches too).
type filter struct {
	m              *offsetMap
	end            int64 // records at or above were not mapped: kept as they are
	nowMs          int64
	retainMs       int64           // delete.retention.ms
	lastOfProducer map[int64]int64 // producer id -> base offset of its last batch below end
	coder          *record.Coder
	room           record.Room // where a compressed batch is inflated
	txn            txnFilter

	kept    []record.Record // alias the inflated records of the batch in hand
	recBuf  []byte          // the kept records, encoded
	zipped  []byte          // recBuf compressed
	out     []byte
	horizon int64 // latest delete horizon of a kept tombstone, -1 if none
	read    int64 // records examined
	dropped int64
}

// batch returns what to write for b: b itself, a rebuilt batch valid until
// the next call, or nil to drop it. Batches come in offset order.
func (f *filter) batch(b []byte, h record.Header) ([]byte, error) {
	if h.IsControl() {
		return f.marker(b, h)
	}
	if h.IsTransactional() && f.txn.aborts.aborted(h) {
		return f.abortedData(h), nil
	}
	out, err := f.data(b, h)
	if out != nil && h.IsTransactional() {
		f.txn.hasData[h.ProducerID] = true
	}
	return out, err
}

// data filters a data batch by the offset map and tombstone horizons.
func (f *filter) data(b []byte, h record.Header) ([]byte, error) {
	if h.BaseOffset >= f.end {
		return b, nil
	}
	recs := b[record.HeaderLen:]
	if h.Compression() != record.CompressionNone {
		var (
			loan record.Loan
			err  error
		)
		recs, loan, err = f.coder.Inflate(f.room, h.Compression(), recs)
		// What data returns is b or a batch rebuilt into f.out, never
		// the inflated records, so the loan ends with this batch.
		defer func() { loan.Return(); clear(f.kept); f.kept = f.kept[:0] }()
		if err != nil {
			return nil, fmt.Errorf("batch at %d: %w", h.BaseOffset, err)
		}
	}
	hasHorizon := h.HasDeleteHorizon()
	tombstones, err := f.keep(h, recs, hasHorizon)
	if err != nil {
		return nil, err
	}
	needHorizon := tombstones > 0 && !hasHorizon
	if tombstones > 0 && hasHorizon {
		f.horizon = max(f.horizon, h.FirstTimestamp)
	}
	// Empty batches are judged first: one kept for its producer must go
	// once the producer has written a later batch.
	switch {
	case len(f.kept) == 0 && f.lastOf(h) && h.NumRecords == 0:
		return b, nil
	case len(f.kept) == 0 && f.lastOf(h):
		return f.emptyBatch(h), nil
	case len(f.kept) == 0:
		return nil, nil
	case len(f.kept) == int(h.NumRecords) && !needHorizon:
		return b, nil
	}
	return f.rebuild(h, b[record.HeaderLen:], needHorizon)
}

// keep fills f.kept with the records to retain and counts the tombstones
// among them.
func (f *filter) keep(h record.Header, recs []byte, hasHorizon bool) (int, error) {
	f.kept = f.kept[:0]
	tombstones := 0
	it := record.NewIter(recs, h.NumRecords)
	for r, ok := it.Next(); ok; r, ok = it.Next() {
		f.read++
		tombstone := r.Value == nil
		// Kafka drops keyless records too: they cannot be compacted and a
		// compacted topic refuses them on produce.
		if r.Key == nil {
			f.dropped++
			continue
		}
		off := h.BaseOffset + int64(r.OffsetDelta)
		if latest, ok := f.m.get(r.Key); ok && latest > off {
			f.dropped++
			continue
		}
		if tombstone && hasHorizon && f.nowMs >= h.FirstTimestamp {
			f.dropped++
			continue
		}
		if tombstone {
			tombstones++
		}
		f.kept = append(f.kept, r)
	}
	return tombstones, it.Err()
}

// rebuild encodes the kept records as a batch with h's offsets, producer
// fields and codec. Setting a delete horizon moves the base timestamp to it.
func (f *filter) rebuild(h record.Header, orig []byte, setHorizon bool) ([]byte, error) {
	nh := h
	if setHorizon {
		nh.FirstTimestamp = f.nowMs + f.retainMs
		nh.Attributes |= record.AttrDeleteHorizon
		f.horizon = max(f.horizon, nh.FirstTimestamp)
	}
	if !h.LogAppendTime() {
		nh.MaxTimestamp = -1
	}
	f.recBuf = f.recBuf[:0]
	for _, r := range f.kept {
		ts := h.FirstTimestamp + r.TimestampDelta
		if !h.LogAppendTime() {
			nh.MaxTimestamp = max(nh.MaxTimestamp, ts)
		}
		r.TimestampDelta = ts - nh.FirstTimestamp
		f.recBuf = record.AppendRecord(f.recBuf, r)
	}
	nh.NumRecords = int32(len(f.kept))
	recs := f.recBuf
	if c := h.Compression(); c != record.CompressionNone {
		var err error
		if recs, err = f.coder.Compress(f.zipped[:0], c, f.recBuf, record.IsXerial(orig)); err != nil {
			return nil, err
		}
		f.zipped = recs
	}
	f.out = record.AppendBatch(f.out[:0], nh, recs)
	return f.out, nil
}

// emptyBatch keeps a producer's last batch as a header alone: its offsets
// and sequence range are what the producer's next append is checked
// against after a restart.
func (f *filter) emptyBatch(h record.Header) []byte {
	nh := h
	nh.Attributes &^= record.AttrCompressionMask | record.AttrDeleteHorizon
	nh.FirstTimestamp = h.MaxTimestamp
	nh.NumRecords = 0
	f.out = record.AppendBatch(f.out[:0], nh, nil)
	return f.out
}
