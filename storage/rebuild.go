package storage

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"

	"spool/record"
)

// Floors for rebuildSegment: damage anywhere ends the log there, or
// damage anywhere is refused.
const (
	cutAnywhere int64 = math.MinInt64
	cutNowhere  int64 = math.MaxInt64
)

// rebuildSegment re-validates every batch of s (lengths, magic, offsets,
// CRC) and rewrites both indexes from what it finds. It returns the end of
// the valid prefix and the offset after its last batch. Damage at or past
// offset floor (the recovery point: what was never fsynced, so a crash may
// have torn it) just ends the log there; damage below it is ErrLogCorrupt
// naming the file and position.
//
// The active segment is left as appends leave it: its last time-index
// entry stays pending in memory (written at the roll) and an index with no
// entries is not created. Recovering a log whose tail is intact and short
// of the index interval (100,000 partitions of one record each) then
// creates and writes no file at all: creating two index files a log, then
// sizing them for appends, was most of the system time of a restart after
// kill -9.
func (l *Log) rebuildSegment(s *segment, floor int64) (end, next int64, err error) {
	f, err := os.Open(s.logPath)
	if err != nil {
		return 0, 0, fmt.Errorf("recover segment: %w", err)
	}
	defer f.Close()
	// Buffers no larger than the segment: 100,000 logs of a few hundred
	// bytes each would otherwise allocate 9 GiB in all while recovering.
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, s.size), int(min(s.size, 64<<10)))

	s.idxN, s.timeN, s.sinceIndex = 0, 0, 0
	s.lastTimeTs, s.maxTs, s.maxTsOff, s.rollTs = -1, -1, -1, -1
	var idxBuf, timeBuf []byte
	var hdr [record.HeaderLen]byte
	chunk := make([]byte, max(min(s.size, 32<<10), 1))
	interval := int64(l.cfg.IndexIntervalBytes)
	pos := int64(0)
	next = s.base
	var bad error
	for pos < s.size {
		var h record.Header
		if h, bad = readValidBatch(r, hdr[:], chunk, s.size-pos, next, s.base); bad != nil {
			break
		}
		total := int64(h.TotalSize())
		s.noteBatch(h.LastOffset(), h.MaxTimestamp, pos == 0)
		if s.sinceIndex >= interval {
			idxBuf = appendOffsetEntry(idxBuf, h.LastOffset()-s.base, pos)
			if s.maxTs > s.lastTimeTs {
				timeBuf = appendTimeEntry(timeBuf, s.maxTs, s.maxTsOff-s.base)
				s.lastTimeTs = s.maxTs
			}
			s.sinceIndex = 0
		}
		s.sinceIndex += total
		pos += total
		next = h.NextOffset()
	}
	if bad != nil && next < floor {
		return 0, 0, fmt.Errorf("%w: %s at byte %d (offset %d, below the recovery point %d): %v", ErrLogCorrupt, s.logPath, pos, next, floor, bad)
	}
	active := s == l.activeSeg()
	if s.maxTs > s.lastTimeTs && !active {
		timeBuf = appendTimeEntry(timeBuf, s.maxTs, s.maxTsOff-s.base)
		s.lastTimeTs = s.maxTs
	}
	s.maxTsLoaded = true
	s.idxN, s.timeN = len(idxBuf)/offsetEntrySize, len(timeBuf)/timeEntrySize
	if err := rewriteIndex(s.idxPath, idxBuf, &s.noIdx, active); err != nil {
		return 0, 0, err
	}
	if err := rewriteIndex(s.timePath, timeBuf, &s.noTime, active); err != nil {
		return 0, 0, err
	}
	return pos, next, nil
}

// rewriteIndex replaces an index file's content with data. An active
// segment's index without entries is emptied only if it exists (absent
// records which): appends create it with their first entry. A closed
// segment's indexes are always on disk (closeIndexes).
func rewriteIndex(path string, data []byte, absent *bool, active bool) error {
	if active && len(data) == 0 {
		if *absent {
			return nil
		}
		err := os.Truncate(path, 0)
		if errors.Is(err, fs.ErrNotExist) {
			*absent = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("rebuild %s: %w", path, err)
		}
		return nil
	}
	if err := rewriteFile(path, data); err != nil {
		return err
	}
	*absent = false
	return nil
}

// readValidBatch reads the next batch from r and checks it; remain is how
// many bytes the segment has from here, next the lowest acceptable base.
func readValidBatch(r io.Reader, hdr, chunk []byte, remain, next, segBase int64) (record.Header, error) {
	if remain < record.HeaderLen {
		return record.Header{}, fmt.Errorf("partial header of %d bytes", remain)
	}
	if _, err := io.ReadFull(r, hdr); err != nil {
		return record.Header{}, err
	}
	h, _ := record.ParseHeader(hdr)
	switch {
	case h.Magic != 2:
		return h, fmt.Errorf("magic %d", h.Magic)
	case h.BatchLength < record.MinBatchLength:
		return h, fmt.Errorf("batchLength %d", h.BatchLength)
	case int64(h.TotalSize()) > remain:
		return h, fmt.Errorf("batch of %d bytes, %d remain", h.TotalSize(), remain)
	case h.LastOffsetDelta < 0 || h.BaseOffset < next:
		return h, fmt.Errorf("offset %d (delta %d) below %d", h.BaseOffset, h.LastOffsetDelta, next)
	case h.LastOffset()-segBase > math.MaxInt32:
		return h, fmt.Errorf("offset %d too far from segment base %d", h.LastOffset(), segBase)
	}
	crc := record.HeaderChecksum(hdr)
	for left := int64(h.TotalSize() - record.HeaderLen); left > 0; {
		n := min(left, int64(len(chunk)))
		if _, err := io.ReadFull(r, chunk[:n]); err != nil {
			return h, err
		}
		crc = record.UpdateChecksum(crc, chunk[:n])
		left -= n
	}
	if crc != h.CRC {
		return h, fmt.Errorf("crc %08x, computed %08x", h.CRC, crc)
	}
	return h, nil
}

func appendOffsetEntry(b []byte, rel, pos int64) []byte {
	var e [offsetEntrySize]byte
	putOffsetEntry(e[:], rel, pos)
	return append(b, e[:]...)
}

func appendTimeEntry(b []byte, ts, rel int64) []byte {
	var e [timeEntrySize]byte
	putTimeEntry(e[:], ts, rel)
	return append(b, e[:]...)
}

// rewriteFile replaces a file's content in place, keeping its inode so
// descriptors other code holds stay valid.
func rewriteFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("rebuild index: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("rebuild %s: %w", path, err)
	}
	return nil
}

// readTail loads the active segment's append state from the last index
// entries and a scan of the batch headers after the last offset entry.
func (l *Log) readTail(s *segment) error {
	ref, err := l.files.Pin(s.logPath)
	if err != nil {
		return err
	}
	defer l.files.Unpin(ref)
	pos := int64(0)
	var e [timeEntrySize]byte
	if s.idxN > 0 {
		if pos, err = l.lastOffsetEntryPos(s, e[:offsetEntrySize]); err != nil {
			return err
		}
	}
	s.lastTimeTs, s.maxTs, s.maxTsOff = -1, -1, -1
	if s.timeN > 0 {
		if err := l.readTimeEntry(s, s.timeN-1, e[:]); err != nil {
			return err
		}
		ts, rel := timeEntry(e[:])
		s.lastTimeTs, s.maxTs, s.maxTsOff = ts, ts, s.base+rel
	}
	s.sinceIndex = s.size - pos
	var hdr [record.HeaderLen]byte
	next := s.base
	if s.size > 0 {
		if _, err := ref.f.ReadAt(hdr[:], 0); err != nil {
			return fmt.Errorf("read %s header at 0: %w", s.logPath, err)
		}
		h, _ := record.ParseHeader(hdr[:])
		s.rollTs = h.MaxTimestamp
	}
	for pos < s.size {
		if _, err := ref.f.ReadAt(hdr[:], pos); err != nil {
			return fmt.Errorf("read %s header at %d: %w", s.logPath, pos, err)
		}
		h, _ := record.ParseHeader(hdr[:])
		if h.Magic != 2 || h.BatchLength < record.MinBatchLength || pos+int64(h.TotalSize()) > s.size ||
			h.BaseOffset < next || h.LastOffsetDelta < 0 {
			return fmt.Errorf("%w: %s at byte %d: bad batch header", ErrLogCorrupt, s.logPath, pos)
		}
		s.noteBatch(h.LastOffset(), h.MaxTimestamp, false)
		next = h.NextOffset()
		pos += int64(h.TotalSize())
	}
	s.maxTsLoaded = true
	l.leo = next
	return nil
}

func (l *Log) lastOffsetEntryPos(s *segment, e []byte) (int64, error) {
	ref, err := l.files.Pin(s.idxPath)
	if err != nil {
		return 0, err
	}
	defer l.files.Unpin(ref)
	if err := readEntry(ref.f, s.idxN-1, e); err != nil {
		return 0, err
	}
	_, pos := offsetEntry(e)
	return pos, nil
}

func (l *Log) readTimeEntry(s *segment, i int, e []byte) error {
	ref, err := l.files.Pin(s.timePath)
	if err != nil {
		return err
	}
	defer l.files.Unpin(ref)
	return readEntry(ref.f, i, e)
}
