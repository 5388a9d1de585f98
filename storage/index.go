package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Index entry layouts, as in Kafka: the offset index maps a batch's offset
// relative to the segment base to its byte position; the time index maps a
// timestamp to the relative offset of the batch that first reached it.
const (
	offsetEntrySize = 8  // relative offset (4) + position (4)
	timeEntrySize   = 12 // timestamp (8) + relative offset (4)
)

// searchPage is how many index bytes are read in one pread once a binary
// search has narrowed the range: a page costs about what one entry does.
const searchPage = 4096

// searchIndex returns how many leading entries of an index file satisfy
// before, which must hold for a prefix of the entries and fail for the rest.
// before gets the decoded entry: (relative offset, position) for the offset
// index, (timestamp, relative offset) for the time index. It binary-searches
// with small preads and finishes with one page read, so nothing of the index
// stays in memory; entries are passed decoded so the page stays on the stack.
func searchIndex(f *os.File, n, size int, before func(a, b int64) bool) (int, error) {
	var page [searchPage]byte
	lo, hi := 0, n
	for (hi-lo)*size > searchPage {
		mid := int(uint(lo+hi) >> 1)
		e := page[:size]
		if _, err := f.ReadAt(e, int64(mid)*int64(size)); err != nil {
			return 0, fmt.Errorf("read %s entry %d: %w", f.Name(), mid, err)
		}
		if before(decodeEntry(e)) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if hi == lo {
		return lo, nil
	}
	buf := page[:(hi-lo)*size]
	if _, err := f.ReadAt(buf, int64(lo)*int64(size)); err != nil {
		return 0, fmt.Errorf("read %s entries %d-%d: %w", f.Name(), lo, hi, err)
	}
	for len(buf) > 0 && before(decodeEntry(buf[:size])) {
		lo++
		buf = buf[size:]
	}
	return lo, nil
}

// decodeEntry decodes an entry of either index by its size.
func decodeEntry(e []byte) (int64, int64) {
	if len(e) == offsetEntrySize {
		return offsetEntry(e)
	}
	return timeEntry(e)
}

func offsetEntry(e []byte) (rel int64, pos int64) {
	return int64(binary.BigEndian.Uint32(e)), int64(binary.BigEndian.Uint32(e[4:]))
}

func timeEntry(e []byte) (ts int64, rel int64) {
	return int64(binary.BigEndian.Uint64(e)), int64(binary.BigEndian.Uint32(e[8:]))
}

func putOffsetEntry(e []byte, rel, pos int64) {
	binary.BigEndian.PutUint32(e, uint32(rel))
	binary.BigEndian.PutUint32(e[4:], uint32(pos))
}

func putTimeEntry(e []byte, ts, rel int64) {
	binary.BigEndian.PutUint64(e, uint64(ts))
	binary.BigEndian.PutUint32(e[8:], uint32(rel))
}

// readEntry reads entry i of an index file into e.
func readEntry(f *os.File, i int, e []byte) error {
	if _, err := f.ReadAt(e, int64(i)*int64(len(e))); err != nil {
		return fmt.Errorf("read %s entry %d: %w", f.Name(), i, err)
	}
	return nil
}

// indexChecker validates index entries as they stream past; the offset and
// time indexes differ only in what "in order" means.
type indexChecker struct {
	size    int
	logSize int64
	prevA   int64 // relative offset (offset index) or timestamp (time index)
	prevB   int64 // position (offset index) or relative offset (time index)
	count   int
}

func (c *indexChecker) check(e []byte) error {
	var a, b int64
	if c.size == offsetEntrySize {
		a, b = offsetEntry(e)
		if b >= c.logSize {
			return fmt.Errorf("entry %d: position %d beyond log size %d", c.count, b, c.logSize)
		}
		if c.count > 0 && (a <= c.prevA || b <= c.prevB) {
			return fmt.Errorf("entry %d: (%d, %d) not after (%d, %d)", c.count, a, b, c.prevA, c.prevB)
		}
	} else {
		a, b = timeEntry(e)
		if c.count > 0 && (a <= c.prevA || b < c.prevB) {
			return fmt.Errorf("entry %d: (%d, %d) not after (%d, %d)", c.count, a, b, c.prevA, c.prevB)
		}
	}
	c.prevA, c.prevB = a, b
	c.count++
	return nil
}

// checkIndex reports whether an index file of a closed segment can be
// trusted. A full check reads every entry; otherwise only the first and last
// are compared, which catches truncation, zero tails and most garbage at the
// cost of two preads.
func checkIndex(path string, size int, logSize int64, full bool) (entries int, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && logSize == 0 {
		return 0, nil // an empty segment need not have its indexes (segment_lazy.go)
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if st.Size()%int64(size) != 0 {
		return 0, fmt.Errorf("size %d is not a multiple of %d", st.Size(), size)
	}
	n := int(st.Size() / int64(size))
	if n > 0 && logSize == 0 {
		return 0, fmt.Errorf("%d entries for an empty log", n)
	}
	c := indexChecker{size: size, logSize: logSize}
	if !full {
		e := make([]byte, size)
		for i := 0; i < n; i += max(n-1, 1) {
			if err := readEntry(f, i, e); err != nil {
				return 0, err
			}
			if err := c.check(e); err != nil {
				return 0, err
			}
		}
		return n, nil
	}
	buf := make([]byte, 4096*size) // whole entries per read
	for off := int64(0); off < st.Size(); {
		m, err := f.ReadAt(buf, off)
		if err != nil && err != io.EOF {
			return 0, err
		}
		if m == 0 {
			break
		}
		for p := 0; p+size <= m; p += size {
			if err := c.check(buf[p : p+size]); err != nil {
				return 0, err
			}
		}
		off += int64(m)
	}
	return n, nil
}
