package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"
)

// cleanerCheckpointFile holds "firstDirty lastCleanMs deleteHorizon": where
// the next clean starts mapping, when the last one ended, and the latest
// delete horizon of a tombstone it kept (-1 if none).
const cleanerCheckpointFile = "cleaner-checkpoint"

// cleanerState is what the log remembers of its cleaning, guarded by mu.
type cleanerState struct {
	firstDirty  int64
	lastCleanMs int64
	horizon     int64
	last        CleanResult
}

// CleanResult describes one clean.
type CleanResult struct {
	Segments       int   // segments rewritten
	Groups         int   // segments written in their place
	BytesBefore    int64 // size of the rewritten segments
	BytesAfter     int64 // size of their replacements
	DirtyBytes     int64 // bytes of the dirty section mapped
	FirstDirty     int64 // where mapping started
	EndOffset      int64 // where the next clean starts mapping
	RecordsRead    int64
	RecordsDropped int64
	Duration       time.Duration
}

func (l *Log) loadCleanerState() {
	l.clean = cleanerState{firstDirty: l.start, horizon: -1}
	if !l.has(cleanerCheckpointFile) {
		return
	}
	b, err := os.ReadFile(filepath.Join(l.dir, cleanerCheckpointFile))
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	var st cleanerState
	if err == nil {
		_, err = fmt.Sscan(string(b), &st.firstDirty, &st.lastCleanMs, &st.horizon)
	}
	if err != nil {
		// Cleaning from the start again costs work, never data.
		l.lg.Warn("ignoring unreadable cleaner checkpoint", zap.Error(err))
		return
	}
	l.clean = st
}

// rewindCleanerLocked moves the first dirty offset back to offset after a
// truncation, so records appended in place of the cut ones count as dirty.
func (l *Log) rewindCleanerLocked(offset int64) error {
	if l.clean.firstDirty <= offset {
		return nil
	}
	l.clean.firstDirty = offset
	return l.writeCleanerCheckpoint(l.clean)
}

func (l *Log) writeCleanerCheckpoint(st cleanerState) error {
	body := fmt.Sprintf("%d %d %d\n", st.firstDirty, st.lastCleanMs, st.horizon)
	return writeFileAtomic(l.dir, cleanerCheckpointFile, []byte(body))
}

// CleanerStats is a log's cleaning state as the cleaner sees it now.
type CleanerStats struct {
	Compact          bool
	FirstDirtyOffset int64
	CleanBytes       int64   // bytes before the first dirty segment
	CleanableBytes   int64   // dirty bytes the cleaner may clean now
	DirtyRatio       float64 // CleanableBytes over CleanBytes+CleanableBytes
	MinDirtyRatio    float64 // min.cleanable.dirty.ratio
	// MustClean is set once the oldest dirty record is older than
	// max.compaction.lag.ms: the log is cleaned whatever its ratio.
	MustClean bool
	// TombstonesDue is set once a kept tombstone's delete horizon passed.
	TombstonesDue bool
	LastCleanMs   int64 // 0 if never cleaned
	LastClean     CleanResult
}

// CleanerStats reports what the cleaner would do with the log now, were
// it allowed up to the log end.
func (l *Log) CleanerStats() CleanerStats { return l.CleanerStatsBelow(math.MaxInt64) }

// CleanerStatsBelow is CleanerStats for a clean bounded by upTo, the bound
// Clean gets (the last stable offset): segments at or above it count
// neither as clean nor as cleanable, so a log whose open transaction holds
// its dirty segments back does not look dirty.
func (l *Log) CleanerStatsBelow(upTo int64) CleanerStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := CleanerStats{
		Compact: l.cfg.Compact, MinDirtyRatio: l.cfg.MinCleanableDirtyRatio,
		LastCleanMs: l.clean.lastCleanMs, LastClean: l.clean.last,
	}
	if l.closed {
		return st
	}
	r, err := l.cleanableRange(min(upTo, l.leo))
	if err != nil {
		l.lg.Warn("cleaner stats", zap.Error(err))
	}
	st.FirstDirtyOffset = r.firstDirty
	for i, s := range l.segs[:r.n] {
		if i < r.dirtyIdx {
			st.CleanBytes += s.size
		} else {
			st.CleanableBytes += s.size
		}
	}
	if total := st.CleanBytes + st.CleanableBytes; total > 0 {
		st.DirtyRatio = float64(st.CleanableBytes) / float64(total)
	}
	st.MustClean = r.dirtyIdx < r.n && l.pastMaxLag(l.segs[r.dirtyIdx])
	st.TombstonesDue = l.clean.horizon >= 0 && l.nowMs() >= l.clean.horizon
	return st
}

// Cleanable reports whether PickLog would consider the log now.
func (st CleanerStats) Cleanable() bool {
	return st.dirtyEnough() || st.Compact && st.TombstonesDue
}

func (st CleanerStats) dirtyEnough() bool {
	return st.Compact && st.CleanableBytes > 0 && (st.DirtyRatio > st.MinDirtyRatio || st.MustClean)
}

// PickLog returns the index of the log to clean next, or -1: the dirtiest
// compacted log above its min.cleanable.dirty.ratio or past its
// max.compaction.lag.ms, else one whose tombstones are due to go.
func PickLog(stats []CleanerStats) int {
	best := -1
	for i, st := range stats {
		if !st.dirtyEnough() {
			continue
		}
		if best < 0 || st.DirtyRatio > stats[best].DirtyRatio {
			best = i
		}
	}
	if best >= 0 {
		return best
	}
	for i, st := range stats {
		if st.Compact && st.TombstonesDue {
			return i
		}
	}
	return -1
}
