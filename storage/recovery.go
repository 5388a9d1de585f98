package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.uber.org/zap"
)

// load builds the in-memory view of the directory and repairs what a crash
// may have left: a torn tail is cut off, missing or damaged indexes are
// rebuilt. Only damage that is not at the tail is refused.
func (l *Log) load() error {
	bases, err := l.scanDir()
	if err != nil {
		return err
	}
	clean := false
	if l.has(cleanShutdownFile) {
		if clean, err = removeMarker(l.dir, cleanShutdownFile); err != nil {
			return err
		}
	}
	clean = clean || l.cleanDir
	start, _ := l.readOffset(logStartOffsetFile)
	if len(bases) == 0 {
		return l.initEmpty(start)
	}
	rp, hasRP := l.readOffset(recoveryPointFile)
	nowMs := l.nowMs()
	for _, b := range bases {
		s := newSegment(l.dir, b, nowMs)
		st, err := os.Stat(s.logPath)
		if err != nil {
			return fmt.Errorf("stat segment: %w", err)
		}
		s.size = st.Size()
		if l.listing != nil {
			// An index the listing lacks needs no probe to be found absent.
			s.noIdx = !l.listing[filepath.Base(s.idxPath)]
			s.noTime = !l.listing[filepath.Base(s.timePath)]
		}
		l.segs = append(l.segs, s)
	}
	first := len(l.segs) // first segment to re-validate
	if !clean {
		first = 0
		if hasRP {
			first = max(l.segmentIndex(rp), 0)
		}
		l.lg.Info("recovering log after unclean shutdown",
			zap.Int64("recoveryPoint", rp), zap.Int("segments", len(l.segs)-first))
	}
	floor := cutNowhere
	if !clean {
		floor = rp // 0 without a recovery point: nothing is trusted
	}
	if err := l.loadSegments(first, floor); err != nil {
		return err
	}
	if !clean {
		// Index entries of markers a crash took off the tail go too.
		if err := l.trimTxnIndex(len(l.segs)-1, l.leo); err != nil {
			return err
		}
	}
	l.start = min(max(start, l.segs[0].base), l.leo)
	l.flushed = l.leo
	if !clean {
		l.flushed = min(rp, l.leo)
	}
	if err := l.activeSeg().activate(l.files, l.cfg.MaxIndexBytes); err != nil {
		return err
	}
	return l.dropSegmentsBelowStart()
}

// initEmpty creates the first segment of a new (or emptied) log.
func (l *Log) initEmpty(start int64) error {
	s := newSegment(l.dir, start, l.nowMs())
	if err := s.create(); err != nil {
		return err
	}
	if err := s.activate(l.files, l.cfg.MaxIndexBytes); err != nil {
		return err
	}
	l.segs = []*segment{s}
	l.start, l.leo, l.flushed = start, start, start
	l.dirDirty = true
	return nil
}

// readOffset reads a small offset file; a damaged one is treated as
// missing, which only costs extra recovery work.
func (l *Log) readOffset(name string) (int64, bool) {
	if !l.has(name) {
		return 0, false
	}
	off, ok, err := readOffsetFile(l.dir, name)
	if err != nil {
		l.lg.Warn("ignoring unreadable offset file", zap.String("file", name), zap.Error(err))
	}
	return off, ok
}

// scanDir removes leftovers of interrupted deletes and compactions and
// returns the base offsets of the segments, ascending.
func (l *Log) scanDir() ([]int64, error) {
	ents, err := os.ReadDir(l.dir)
	if err != nil {
		return nil, err
	}
	var bases, swaps []int64
	var indexes, txnSwaps []string
	listing := make(map[string]bool, len(ents))
	changed := false
	for _, e := range ents {
		name := e.Name()
		listing[name] = true
		p := filepath.Join(l.dir, name)
		switch {
		case strings.HasSuffix(name, logSuffix+swapSuffix):
			// The compaction had committed: completeSwaps finishes it.
			if b, ok := parseSegmentName(name, logSuffix+swapSuffix); ok {
				swaps = append(swaps, b)
			}
		case strings.HasSuffix(name, txnIndexSuffix+swapSuffix):
			// completeSwaps moves it into place with its .log.swap or removes it.
			txnSwaps = append(txnSwaps, name)
		case strings.HasSuffix(name, swapSuffix), strings.HasSuffix(name, deletedSuffix),
			strings.HasSuffix(name, cleanedSuffix), strings.HasSuffix(name, tmpSuffix):
			changed = true
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
		case strings.HasSuffix(name, logSuffix):
			if b, ok := parseSegmentName(name, logSuffix); ok {
				bases = append(bases, b)
			}
		case strings.HasSuffix(name, indexSuffix), strings.HasSuffix(name, timeIndexSuffix), isTxnIndexName(name):
			indexes = append(indexes, name)
		}
	}
	bases, err = l.completeSwaps(swaps, txnSwaps, bases)
	if err != nil {
		return nil, err
	}
	if !changed && len(swaps) == 0 && len(txnSwaps) == 0 {
		// What the directory holds, for the rest of the open to consult
		// instead of probing for files (a clean open of 100,000
		// partitions spends most of its time in system calls).
		l.listing = listing
	}
	logs := make(map[int64]bool, len(bases))
	for _, b := range bases {
		logs[b] = true
	}
	for _, name := range indexes {
		b, ok := parseSegmentName(name, indexSuffix)
		if !ok {
			b, ok = parseSegmentName(name, timeIndexSuffix)
		}
		if !ok {
			b, ok = parseSegmentName(name, txnIndexSuffix)
		}
		if ok && !logs[b] {
			l.lg.Warn("removing index without a segment", zap.String("file", name))
			if err := removeIfExists(filepath.Join(l.dir, name)); err != nil {
				return nil, err
			}
		}
	}
	slices.Sort(bases)
	return bases, nil
}

// loadSegments re-validates segments from index first on and checks the
// indexes of the others (fully when the shutdown was unclean), then sets
// the log end offset from the last segment. Damage past floor (the
// recovery point after an unclean shutdown) truncates the log at the first
// invalid batch, dropping the segments after it, as Kafka's recovery does;
// damage below it (or in a closed segment after a clean shutdown) refuses
// the log. A torn last segment is always cut.
func (l *Log) loadSegments(first int, floor int64) error {
	fullCheck := floor != cutNowhere
	tail := len(l.segs) - 1
	for tail > 0 && l.segs[tail].size == 0 {
		tail--
	}
	// rebuiltEnd is the offset after the last segment's batches when the
	// loop rebuilt that segment, which then needs no second read.
	rebuiltEnd := int64(-1)
	for i := 0; i <= tail; i++ {
		s := l.segs[i]
		isTail := i == tail
		if i >= first {
			f := floor
			if isTail {
				f = cutAnywhere
			}
			end, next, err := l.rebuildSegment(s, f)
			if err != nil {
				return err
			}
			cut := end < s.size
			if cut {
				if err := l.cutTail(i, end); err != nil {
					return err
				}
			}
			if s == l.activeSeg() {
				rebuiltEnd = next
			}
			if cut {
				break
			}
			continue
		}
		s.synced, s.closedSynced = s.size, true
		if err := l.checkIndexes(s, fullCheck, isTail); err != nil {
			return err
		}
	}
	last := l.activeSeg()
	if last.size == 0 {
		l.leo = last.base
		return nil
	}
	if rebuiltEnd >= 0 {
		l.leo = rebuiltEnd
		return nil
	}
	return l.loadTail(last)
}

// checkIndexes rebuilds a segment's indexes when they are missing or fail
// the sanity check.
func (l *Log) checkIndexes(s *segment, full, isTail bool) error {
	var err error
	if s.idxN, err = checkIndex(s.idxPath, offsetEntrySize, s.size, full); err == nil {
		s.timeN, err = checkIndex(s.timePath, timeEntrySize, s.size, full)
	}
	if err == nil {
		return nil
	}
	l.lg.Warn("rebuilding segment indexes", zap.String("segment", s.logPath), zap.Error(err))
	floor := cutNowhere
	if isTail {
		floor = cutAnywhere
	}
	end, _, rerr := l.rebuildSegment(s, floor)
	if rerr != nil {
		return rerr
	}
	if end < s.size {
		return l.cutTail(len(l.segs)-1, end)
	}
	return nil
}

// cutTail truncates segment i at end after a torn write and drops the
// segments after it (empty ones, unless damage past the recovery point cut
// the log short of its last segment).
func (l *Log) cutTail(i int, end int64) error {
	s := l.segs[i]
	l.lg.Warn("truncating the log at its first invalid batch past the recovery point", zap.String("segment", s.logPath),
		zap.Int64("from", s.size), zap.Int64("to", end), zap.Int("segments_dropped", len(l.segs)-1-i))
	if err := os.Truncate(s.logPath, end); err != nil {
		return fmt.Errorf("truncate torn tail: %w", err)
	}
	s.size, s.synced = end, 0
	for _, d := range l.segs[i+1:] {
		if err := removeSegmentFiles(l.files, d); err != nil {
			return err
		}
	}
	l.segs = l.segs[:i+1]
	return nil
}

// loadTail derives the active segment's append state from its last index
// entry and the batches after it, without reading the whole segment.
func (l *Log) loadTail(s *segment) error {
	err := l.readTail(s)
	if err == nil {
		return nil
	}
	// The trusted tail does not parse: treat it as a crash after all.
	l.lg.Warn("active segment tail unreadable, recovering it", zap.String("segment", s.logPath), zap.Error(err))
	end, next, err := l.rebuildSegment(s, cutAnywhere)
	if err != nil {
		return err
	}
	if end < s.size {
		if err := l.cutTail(len(l.segs)-1, end); err != nil {
			return err
		}
	}
	l.leo = next
	return nil
}

// has reports whether the directory held name when the log opened; without
// a listing (the open changed the directory) it says yes, so the caller
// looks.
func (l *Log) has(name string) bool {
	return l.listing == nil || l.listing[name]
}

// TakeListing returns the names the partition directory held when the log
// opened (nil when the open changed it) and forgets them: the owner's own
// files (producer snapshots, the leader epoch checkpoint) are found there
// without listing the directory again.
func (l *Log) TakeListing() map[string]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.listing
	l.listing = nil
	return m
}
