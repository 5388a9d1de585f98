package storage

import (
	"context"
	"fmt"
	"math"

	"spool/record"

	"go.uber.org/zap"
)

// AppendResult describes where an append landed.
type AppendResult struct {
	FirstOffset   int64
	LastOffset    int64
	LogAppendTime int64 // -1 unless the batches were stamped with LogAppendTime
	MaxTimestamp  int64 // largest batch max timestamp in the append
	StartPosition int64 // byte position of the first batch in its segment
}

// Append writes batches as the leader: offsets are assigned by patching each
// batch's baseOffset and partitionLeaderEpoch in the caller's buffer, which
// must hold complete batches the caller has validated. logAppendTimeMs >= 0
// stamps every batch with that time (LogAppendTime topics). Append does not
// fsync unless a flush interval says so; see Sync.
func (l *Log) Append(batches []byte, leaderEpoch int32, logAppendTimeMs int64) (AppendResult, error) {
	return l.append(batches, true, leaderEpoch, logAppendTimeMs)
}

// AppendAsFollower writes batches keeping their offsets, as replicated from
// a leader. The first base offset must not be below the log end offset; gaps
// (from a compacted leader) are allowed.
func (l *Log) AppendAsFollower(batches []byte) (AppendResult, error) {
	return l.append(batches, false, 0, -1)
}

func (l *Log) append(batches []byte, leader bool, epoch int32, appendTime int64) (AppendResult, error) {
	l.mu.Lock()
	res, err := l.appendLocked(batches, leader, epoch, appendTime)
	flush := err == nil && l.flushDueLocked()
	end := l.leo
	l.mu.Unlock()
	if err != nil {
		return res, fmt.Errorf("append to %s: %w", l.dir, err)
	}
	if flush {
		if err := l.Sync(context.Background(), end); err != nil {
			return res, err
		}
	}
	return res, nil
}

// setInfo summarises a set of batches before it is written.
type setInfo struct {
	first, last int64 // first base offset and last offset
	maxTs       int64
	batches     int
}

func (l *Log) appendLocked(b []byte, leader bool, epoch int32, appendTime int64) (AppendResult, error) {
	res := AppendResult{FirstOffset: -1, LastOffset: -1, LogAppendTime: -1, MaxTimestamp: -1}
	if l.closed {
		return res, ErrClosed
	}
	if err := l.failure(); err != nil {
		return res, err
	}
	if len(b) == 0 {
		return res, nil
	}
	if int64(len(b)) > math.MaxInt32 {
		return res, fmt.Errorf("%w: %d bytes in one append", record.ErrCorrupt, len(b))
	}
	info, err := l.prepareSet(b, leader, epoch, appendTime)
	if err != nil {
		return res, err
	}
	if err := l.maybeRoll(int64(len(b)), info); err != nil {
		return res, l.writeFailed(err)
	}
	s := l.activeSeg()
	pos := s.size
	if err := l.writeSet(s, b); err != nil {
		return res, l.writeFailed(err)
	}
	res = AppendResult{
		FirstOffset: info.first, LastOffset: info.last, LogAppendTime: appendTime,
		MaxTimestamp: info.maxTs, StartPosition: pos,
	}
	return res, nil
}

// prepareSet walks the batch headers, assigning offsets for a leader or
// checking them for a follower, and summarises the set.
func (l *Log) prepareSet(b []byte, leader bool, epoch int32, appendTime int64) (setInfo, error) {
	info := setInfo{first: -1, maxTs: -1}
	next := l.leo
	for pos := 0; pos < len(b); {
		if len(b)-pos < record.HeaderLen {
			return info, fmt.Errorf("%w: %d trailing bytes", record.ErrCorrupt, len(b)-pos)
		}
		batch := b[pos:]
		n := record.SizeOf(batch)
		delta := record.LastOffsetOf(batch) - record.BaseOffsetOf(batch)
		if n < record.HeaderLen || n > int64(len(batch)) || delta < 0 {
			return info, fmt.Errorf("%w: batch at byte %d has length %d, delta %d", record.ErrCorrupt, pos, n, delta)
		}
		batch = batch[:n]
		if leader {
			record.SetBaseOffset(batch, next)
			record.SetPartitionLeaderEpoch(batch, epoch)
			if appendTime >= 0 {
				record.SetLogAppendTime(batch, appendTime)
			}
		} else if base := record.BaseOffsetOf(batch); base < next {
			return info, fmt.Errorf("%w: follower batch base %d below next offset %d", ErrOffsetOutOfRange, base, next)
		}
		base := record.BaseOffsetOf(batch)
		if info.first < 0 {
			info.first = base
		}
		next = base + delta + 1
		info.last = next - 1
		info.maxTs = max(info.maxTs, record.MaxTimestampOf(batch))
		info.batches++
		pos += int(n)
	}
	return info, nil
}

// maybeRoll starts a new segment when the set would not fit the active one
// by size, age, index capacity or relative-offset range.
func (l *Log) maybeRoll(setSize int64, info setInfo) error {
	s := l.activeSeg()
	if s.size == 0 {
		if info.last-s.base > math.MaxInt32 {
			return fmt.Errorf("%w: offsets %d-%d do not fit one segment", record.ErrCorrupt, info.first, info.last)
		}
		return nil
	}
	interval := max(int64(l.cfg.IndexIntervalBytes), 1)
	need := int(min(int64(info.batches), setSize/interval+1))
	var age int64
	if s.rollTs >= 0 {
		age = info.maxTs - s.rollTs
	} else {
		age = l.nowMs() - s.createdMs
	}
	rollMs := l.cfg.SegmentMs
	if l.cfg.Compact {
		// The cleaner never touches the active segment, so max.compaction.lag.ms
		// bounds its age too, as in Kafka.
		rollMs = min(rollMs, l.cfg.MaxCompactionLagMs)
	}
	if s.size+setSize <= l.cfg.SegmentBytes && age <= rollMs && !s.idxFull(need) &&
		info.last-s.base <= math.MaxInt32 {
		return nil
	}
	return l.roll(info.first)
}

// roll closes the active segment and starts one at base.
func (l *Log) roll(base int64) error {
	old := l.activeSeg()
	if err := old.deactivate(l.files, l.scratch[:]); err != nil {
		return err
	}
	s := newSegment(l.dir, base, l.nowMs())
	if err := s.create(); err != nil {
		return err
	}
	if err := s.activate(l.files, l.cfg.MaxIndexBytes); err != nil {
		return err
	}
	l.segs = append(l.segs, s)
	l.dirDirty = true
	return nil
}

// writeSet writes the set at the end of s and indexes its batches. A failed
// write is cut back off so the segment never holds a partial set.
func (l *Log) writeSet(s *segment, b []byte) error {
	ref, err := l.files.Pin(s.logPath)
	if err != nil {
		return err
	}
	defer l.files.Unpin(ref)
	if _, err := ref.f.WriteAt(b, s.size); err != nil {
		_ = ref.f.Truncate(s.size)
		return fmt.Errorf("write %s at %d: %w", s.logPath, s.size, err)
	}
	interval := int64(l.cfg.IndexIntervalBytes)
	pos := s.size
	for off := 0; off < len(b); {
		batch := b[off:]
		n := record.SizeOf(batch)
		last := record.LastOffsetOf(batch)
		s.noteBatch(last, record.MaxTimestampOf(batch), pos == 0)
		if s.sinceIndex >= interval && !s.idxFull(1) {
			// The data is written; a lost sparse-index entry only lengthens
			// lookups, and recovery rebuilds the index anyway.
			if err := l.indexBatch(s, last, pos); err != nil {
				l.lg.Warn("index entry not written", zap.String("segment", s.logPath), zap.Error(err))
			}
		}
		s.sinceIndex += n
		pos += n
		off += int(n)
		l.leo = last + 1
	}
	s.size = pos
	return nil
}

// indexBatch adds the offset-index entry for the batch at pos, whose last
// offset is last, and a time-index entry if the maximum timestamp grew since
// the last one.
func (l *Log) indexBatch(s *segment, last, pos int64) error {
	if err := s.writeIndexEntry(l.files, last, pos, l.scratch[:]); err != nil {
		return err
	}
	if s.maxTs > s.lastTimeTs {
		if err := s.writeTimeEntry(l.files, l.scratch[:]); err != nil {
			return err
		}
	}
	s.sinceIndex = 0
	return nil
}
