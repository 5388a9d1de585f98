package storage

import (
	"fmt"
	"os"

	"spool/record"
)

// Slice is a region of whole batches in one segment file. The file stays
// open and on disk until Release, even if retention or truncation removes
// the segment meanwhile. An empty Slice holds nothing.
type Slice struct {
	files *FileCache
	ref   *FileRef
	pos   int64
	n     int
	mem   []byte // the batches themselves, for records read from elsewhere
}

// MemSlice is a Slice of batches already in memory (read from the remote
// tier); it has no File and is always copied into a response.
func MemSlice(b []byte) Slice { return Slice{n: len(b), mem: b} }

// InMemory reports a MemSlice.
func (s *Slice) InMemory() bool { return s.mem != nil }

// File is the segment file holding the region, nil for an empty Slice.
func (s *Slice) File() *os.File {
	if s.ref == nil {
		return nil
	}
	return s.ref.f
}

// Pos is the region's byte position in File.
func (s *Slice) Pos() int64 { return s.pos }

// Len is the region's length in bytes.
func (s *Slice) Len() int { return s.n }

// Empty reports a Slice with no batches.
func (s *Slice) Empty() bool { return s.n == 0 }

// Release unpins the file. Call it exactly once per non-empty Slice; further
// calls on the same value do nothing.
func (s *Slice) Release() {
	if s.ref != nil {
		s.files.Unpin(s.ref)
		s.ref = nil
	}
}

// ReadAll appends the region's bytes to dst with pread.
func (s *Slice) ReadAll(dst []byte) ([]byte, error) {
	if s.n == 0 {
		return dst, nil
	}
	if s.mem != nil {
		return append(dst, s.mem...), nil
	}
	if s.ref == nil {
		return dst, fmt.Errorf("read slice: released")
	}
	start := len(dst)
	dst = append(dst, make([]byte, s.n)...)
	if _, err := s.ref.f.ReadAt(dst[start:], s.pos); err != nil {
		return dst[:start], fmt.Errorf("read %s at %d: %w", s.ref.f.Name(), s.pos, err)
	}
	return dst, nil
}

// Read returns whole batches starting with the one containing offset: at
// most maxBytes of them, none with a base offset at or above maxOffset (the
// high watermark or last stable offset). If the first batch alone exceeds
// maxBytes it is returned whole when minOneBatch is set (KIP-74), else the
// Slice is empty. offset at the end of the log, or at or above maxOffset,
// gives an empty Slice; offsets outside the log give ErrOffsetOutOfRange.
// The Slice never crosses a segment boundary: the next read continues there.
func (l *Log) Read(offset int64, maxBytes int, maxOffset int64, minOneBatch bool) (Slice, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return Slice{}, ErrClosed
	}
	if offset < l.start || offset > l.leo {
		return Slice{}, fmt.Errorf("read %s at %d (log %d-%d): %w", l.dir, offset, l.start, l.leo, ErrOffsetOutOfRange)
	}
	if offset == l.leo || offset >= maxOffset {
		return Slice{}, nil
	}
	for i := max(l.segmentIndex(offset), 0); i < len(l.segs); i++ {
		sl, found, err := l.readSegment(l.segs[i], offset, maxBytes, maxOffset, minOneBatch)
		if err != nil {
			return Slice{}, fmt.Errorf("read %s at %d: %w", l.dir, offset, err)
		}
		if found {
			return sl, nil
		}
		// offset falls in a gap after this segment's last batch.
	}
	return Slice{}, nil
}

// readSegment finds offset in s; found is false when s has no batch
// containing or following it.
func (l *Log) readSegment(s *segment, offset int64, maxBytes int, maxOffset int64, minOne bool) (Slice, bool, error) {
	if s.size == 0 {
		return Slice{}, false, nil
	}
	ref, err := l.files.Pin(s.logPath)
	if err != nil {
		return Slice{}, false, err
	}
	sl, found, err := l.locate(s, ref.f, offset, maxBytes, maxOffset, minOne)
	if err != nil || sl.n == 0 {
		l.files.Unpin(ref)
		return Slice{}, found, err
	}
	sl.files, sl.ref = l.files, ref
	return sl, true, nil
}

func (l *Log) locate(s *segment, f *os.File, offset int64, maxBytes int, maxOffset int64, minOne bool) (Slice, bool, error) {
	pos, err := l.lookupPosition(s, offset)
	if err != nil {
		return Slice{}, false, err
	}
	var hdr [record.OffsetsLen]byte
	for ; pos < s.size; pos += record.SizeOf(hdr[:]) {
		if err := readHeader(f, s, pos, hdr[:]); err != nil {
			return Slice{}, false, err
		}
		if record.LastOffsetOf(hdr[:]) >= offset {
			break
		}
	}
	if pos >= s.size {
		return Slice{}, false, nil
	}
	if record.BaseOffsetOf(hdr[:]) >= maxOffset {
		return Slice{}, true, nil
	}
	first := record.SizeOf(hdr[:])
	if first > int64(maxBytes) {
		if minOne {
			return Slice{pos: pos, n: int(first)}, true, nil
		}
		return Slice{}, true, nil
	}
	end, err := l.regionEnd(s, f, pos+first, min(s.size, pos+int64(maxBytes)), maxOffset)
	if err != nil {
		return Slice{}, false, err
	}
	return Slice{pos: pos, n: int(end - pos)}, true, nil
}

// readHeader reads the start of the batch header at pos, refusing lengths
// that would loop or run past the segment.
func readHeader(f *os.File, s *segment, pos int64, hdr []byte) error {
	if _, err := f.ReadAt(hdr, pos); err != nil {
		return fmt.Errorf("read %s header at %d: %w", s.logPath, pos, err)
	}
	if n := record.SizeOf(hdr); n < record.HeaderLen || pos+n > s.size {
		return fmt.Errorf("%w: %s at byte %d: batch length %d", ErrLogCorrupt, s.logPath, pos, n)
	}
	return nil
}

// lookupPosition returns the position of the last indexed batch whose
// indexed (last) offset is at most offset, or 0: a place to scan forward
// from for the batch holding offset.
func (l *Log) lookupPosition(s *segment, offset int64) (int64, error) {
	if s.idxN == 0 {
		return 0, nil
	}
	ref, err := l.files.Pin(s.idxPath)
	if err != nil {
		return 0, err
	}
	defer l.files.Unpin(ref)
	rel := offset - s.base
	var e [offsetEntrySize]byte
	n, err := searchIndex(ref.f, s.idxN, offsetEntrySize, func(r, _ int64) bool { return r <= rel })
	if err != nil || n == 0 {
		return 0, err
	}
	if err := readEntry(ref.f, n-1, e[:]); err != nil {
		return 0, err
	}
	_, pos := offsetEntry(e[:])
	return pos, nil
}

// regionEnd returns the furthest batch boundary at or below limit, starting
// from the boundary from, that leaves out batches at or above maxOffset. The
// index jumps close to the answer so only a few headers are read.
func (l *Log) regionEnd(s *segment, f *os.File, from, limit, maxOffset int64) (int64, error) {
	pos := from
	if s.idxN > 0 && limit > from {
		p, err := l.lastEntryBefore(s, limit, maxOffset)
		if err != nil {
			return 0, err
		}
		pos = max(pos, p)
	}
	var hdr [record.OffsetsLen]byte
	for pos < limit {
		if err := readHeader(f, s, pos, hdr[:]); err != nil {
			return 0, err
		}
		n := record.SizeOf(hdr[:])
		if record.BaseOffsetOf(hdr[:]) >= maxOffset || pos+n > limit {
			break
		}
		pos += n
	}
	return pos, nil
}

// lastEntryBefore returns the position of the last indexed batch starting at
// or below limit that ends below maxOffset, or 0.
func (l *Log) lastEntryBefore(s *segment, limit, maxOffset int64) (int64, error) {
	ref, err := l.files.Pin(s.idxPath)
	if err != nil {
		return 0, err
	}
	defer l.files.Unpin(ref)
	maxRel := maxOffset - s.base
	n, err := searchIndex(ref.f, s.idxN, offsetEntrySize, func(r, p int64) bool {
		return p <= limit && r < maxRel
	})
	if err != nil || n == 0 {
		return 0, err
	}
	var e [offsetEntrySize]byte
	if err := readEntry(ref.f, n-1, e[:]); err != nil {
		return 0, err
	}
	_, pos := offsetEntry(e[:])
	return pos, nil
}
