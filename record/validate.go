package record

import "fmt"

// maxOffsetValue bounds offsets so NextOffset never overflows.
const maxOffsetValue = 1<<63 - 2

// Validate checks that b holds exactly one whole v2 batch with a good CRC.
// It checks what holds for every batch, including those a compacted leader
// sends to followers (offset gaps, empty batches); produce-time rules such
// as numRecords == lastOffsetDelta+1 belong to the caller.
func Validate(b []byte) (Header, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return h, err
	}
	if h.Magic != 2 {
		return h, fmt.Errorf("%w: magic %d", ErrUnsupportedMagic, h.Magic)
	}
	if h.BatchLength < MinBatchLength || int64(h.BatchLength)+12 != int64(len(b)) {
		return h, fmt.Errorf("%w: batchLength %d for %d bytes", ErrCorrupt, h.BatchLength, len(b))
	}
	if h.LastOffsetDelta < 0 {
		return h, fmt.Errorf("%w: lastOffsetDelta %d", ErrCorrupt, h.LastOffsetDelta)
	}
	if h.NumRecords < 0 || int64(h.NumRecords) > int64(h.LastOffsetDelta)+1 {
		return h, fmt.Errorf("%w: %d records for lastOffsetDelta %d", ErrCorrupt, h.NumRecords, h.LastOffsetDelta)
	}
	if h.BaseOffset > maxOffsetValue-int64(h.LastOffsetDelta) {
		return h, fmt.Errorf("%w: offset range overflows", ErrCorrupt)
	}
	if got := BatchChecksum(b); got != h.CRC {
		return h, fmt.Errorf("%w: crc %08x, computed %08x", ErrCorrupt, h.CRC, got)
	}
	return h, nil
}

// Split calls fn for each complete batch in b, in order. Only lengths are
// checked; a trailing partial batch is ErrCorrupt.
func Split(b []byte, fn func(batch []byte, h Header) error) error {
	for pos := 0; pos < len(b); {
		h, err := ParseHeader(b[pos:])
		if err != nil {
			return fmt.Errorf("batch at byte %d: %w", pos, err)
		}
		if h.BatchLength < MinBatchLength || int64(h.BatchLength)+12 > int64(len(b)-pos) {
			return fmt.Errorf("%w: batch at byte %d has batchLength %d, %d bytes remain",
				ErrCorrupt, pos, h.BatchLength, len(b)-pos)
		}
		n := h.TotalSize()
		if err := fn(b[pos:pos+n], h); err != nil {
			return err
		}
		pos += n
	}
	return nil
}
