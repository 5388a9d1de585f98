package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"spool/record"

	"go.uber.org/zap"
)

// Steps of a clean at which Hook is called, in order. The files on disk
// after each are what a crash at that point leaves behind.
const (
	StepMapped   = "mapped"   // offset map built, nothing written
	StepCleaned  = "cleaned"  // a group's .cleaned files written and synced
	StepSwap     = "swap"     // renamed to .swap: the replacement is committed
	StepDeleted  = "deleted"  // old segments renamed to .deleted, .swap not yet in place
	StepSwapped  = "swapped"  // replacement in place under the segment names
	StepFinished = "finished" // cleaner checkpoint written
)

// ErrCleanAborted means the segments being cleaned changed meanwhile
// (retention, truncation, DeleteRecords); the clean was dropped and the
// next one starts over.
var ErrCleanAborted = errors.New("segments changed during clean")

// swapIn replaces the consecutive segments old with ns, whose files carry
// the .cleaned suffix. The rename of the .log to .swap is the commit point:
// before it recovery deletes the new files, after it recovery finishes the
// swap. Readers hold the lock's read side to pin a file, so none can open
// a name between the old file leaving and the new one arriving, and Slices
// pinned before keep reading the old, unlinked file.
func (l *Log) swapIn(old []*segment, txnN []int, ns *segment, hook func(string) error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waitFlushLocked()
	i, err := l.locateGroup(old)
	if err == nil && txnIndexesChanged(old, txnN) {
		err = ErrCleanAborted
	}
	if err != nil {
		removeSuffixed(ns, cleanedSuffix)
		return err
	}
	if err := renameSegment(ns, cleanedSuffix, swapSuffix); err != nil {
		removeSuffixed(ns, cleanedSuffix)
		removeSuffixed(ns, swapSuffix)
		return err
	}
	if err := syncDir(l.dir); err != nil {
		return err
	}
	if err := hook(StepSwap); err != nil {
		return err
	}
	var firstErr error
	for _, s := range old {
		if err := removeSegmentFiles(l.files, s); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if err := hook(StepDeleted); err != nil {
		return err
	}
	// Past the commit point a failure leaves the swap for recovery to
	// finish; the in-memory list follows the files either way.
	if err := renameSegment(ns, swapSuffix, ""); err != nil && firstErr == nil {
		firstErr = err
	}
	if err := syncDir(l.dir); err != nil && firstErr == nil {
		firstErr = err
	}
	l.segs = slices.Replace(l.segs, i, i+len(old), ns)
	if firstErr == nil && len(ns.txn.entries) == 0 {
		// The swap carries an index even when empty, so recovery knows
		// which generation it is looking at; once in place it can go. An
		// empty index left behind reads as no index.
		_ = removeIfExists(ns.txnPath())
	}
	if firstErr != nil {
		return fmt.Errorf("swap in %s: %w", ns.logPath, firstErr)
	}
	return hook(StepSwapped)
}

// locateGroup returns where old sits in the segment list, checking it is
// still there whole and not active.
func (l *Log) locateGroup(old []*segment) (int, error) {
	if l.closed {
		return 0, ErrClosed
	}
	i := slices.Index(l.segs, old[0])
	if i < 0 || i+len(old) >= len(l.segs) || !slices.Equal(l.segs[i:i+len(old)], old) {
		return 0, ErrCleanAborted
	}
	return i, nil
}

// renameSegment renames the segment's files, its .txnindex included, from
// one suffix to another, the .log last: its name is what recovery goes by.
// The .txnindex rename is made durable before the others, since recovery
// cannot rebuild that index and judges it by the .log's name.
func renameSegment(s *segment, from, to string) error {
	p := s.txnPath()
	if err := os.Rename(p+from, p+to); err != nil {
		return fmt.Errorf("swap segment: %w", err)
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		return fmt.Errorf("swap segment: %w", err)
	}
	ps := s.paths()
	for _, p := range []string{ps[1], ps[2], ps[0]} {
		if err := os.Rename(p+from, p+to); err != nil {
			return fmt.Errorf("swap segment: %w", err)
		}
	}
	return nil
}

// completeSwaps finishes swaps a crash interrupted: every segment whose base
// falls in the range the .log.swap covers is deleted and the swap file takes
// its place. Offset and time indexes are dropped for recovery to rebuild,
// since a crash between renames may have left either generation under the
// final name. The transaction index cannot be rebuilt from the .log, so the
// cleaner always writes one with the swap and renames it first: while its
// .txnindex.swap exists that is the new one, and once it is gone the
// .txnindex under the final name is. txnSwaps without a committed .log.swap
// are scratch.
func (l *Log) completeSwaps(swaps []int64, txnSwaps []string, bases []int64) ([]int64, error) {
	done := map[int64]bool{}
	for _, b := range swaps {
		s := newSegment(l.dir, b, 0)
		next, whole, err := swapEnd(s.logPath + swapSuffix)
		if err != nil {
			return nil, err
		}
		if !whole {
			// The cleaner syncs a segment before naming it .swap, so this
			// is not its output; the old segments are the better bet.
			l.lg.Warn("removing a damaged swap file", zap.String("segment", s.logPath))
			if err := os.Remove(s.logPath + swapSuffix); err != nil {
				return nil, err
			}
			continue
		}
		l.lg.Warn("completing an interrupted compaction swap",
			zap.String("segment", s.logPath), zap.Int64("nextOffset", next))
		bases = slices.DeleteFunc(bases, func(o int64) bool {
			if o < b || o >= max(next, b+1) {
				return false
			}
			for _, p := range newSegment(l.dir, o, 0).paths() {
				if err == nil {
					err = removeIfExists(p)
				}
			}
			if err == nil && o != b {
				err = removeIfExists(txnIndexPath(l.dir, o))
			}
			return true
		})
		if p := txnIndexPath(l.dir, b); err == nil && slices.Contains(txnSwaps, filepath.Base(p)+swapSuffix) {
			if err = os.Rename(p+swapSuffix, p); err == nil {
				err = syncDir(l.dir)
			}
		}
		if err == nil {
			err = removeIfExists(s.idxPath)
		}
		if err == nil {
			err = removeIfExists(s.timePath)
		}
		if err == nil {
			err = os.Rename(s.logPath+swapSuffix, s.logPath)
		}
		if err != nil {
			return nil, fmt.Errorf("complete swap of %s: %w", s.logPath, err)
		}
		bases = append(bases, b)
		done[b] = true
	}
	for _, name := range txnSwaps {
		if b, ok := txnSwapName(name); !ok || !done[b] {
			if err := removeIfExists(filepath.Join(l.dir, name)); err != nil {
				return nil, err
			}
		}
	}
	if len(swaps) > 0 {
		return bases, syncDir(l.dir)
	}
	return bases, nil
}

func removeIfExists(p string) error {
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// swapEnd returns the offset after the last batch of a swap file and
// whether the file is whole batches to its end.
func swapEnd(path string) (next int64, whole bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false, fmt.Errorf("read swap file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, false, err
	}
	var hdr [record.HeaderLen]byte
	next = -1
	pos := int64(0)
	for pos+record.HeaderLen <= st.Size() {
		if _, err := f.ReadAt(hdr[:], pos); err != nil {
			return 0, false, fmt.Errorf("read %s at %d: %w", path, pos, err)
		}
		h, _ := record.ParseHeader(hdr[:])
		if h.Magic != 2 || h.BatchLength < record.MinBatchLength || pos+int64(h.TotalSize()) > st.Size() || h.BaseOffset < next {
			break
		}
		next = h.NextOffset()
		pos += int64(h.TotalSize())
	}
	return next, pos == st.Size(), nil
}
