package storage

import (
	"math"
	"os"

	"spool/record"
)

// cleanRange is the part of the log a clean may touch: the first n
// segments, of which those from dirtyIdx on hold records not yet mapped.
type cleanRange struct {
	firstDirty int64
	dirtyIdx   int
	n          int
}

// cleanableRange works out, with mu held, which segments may be cleaned:
// never the active one, none holding offsets at or above upTo (the last
// stable offset), and none younger than min.compaction.lag.ms.
func (l *Log) cleanableRange(upTo int64) (cleanRange, error) {
	fd := l.clean.firstDirty
	if fd < l.start || fd > l.leo {
		// Below the start the checkpoint is stale; above the end the log
		// was truncated under it.
		fd = l.start
	}
	r := cleanRange{firstDirty: fd, dirtyIdx: max(l.segmentIndex(fd), 0)}
	for r.n+1 < len(l.segs) && l.segs[r.n+1].base <= upTo {
		r.n++
	}
	if l.cfg.MinCompactionLagMs > 0 {
		horizon := l.nowMs() - l.cfg.MinCompactionLagMs
		for i := r.dirtyIdx; i < r.n; i++ {
			ts, err := l.segmentMaxTs(l.segs[i])
			if err != nil {
				r.n = i
				return r, err
			}
			if ts > horizon {
				r.n = i
				break
			}
		}
	}
	r.dirtyIdx = min(r.dirtyIdx, r.n)
	return r, nil
}

// pastMaxLag reports whether s's first batch is older than
// max.compaction.lag.ms, as Kafka judges a segment's dirty age.
func (l *Log) pastMaxLag(s *segment) bool {
	if l.cfg.MaxCompactionLagMs == math.MaxInt64 || s.size < record.HeaderLen {
		return false
	}
	ref, err := l.files.Pin(s.logPath)
	if err != nil {
		return false
	}
	defer l.files.Unpin(ref)
	var hdr [record.HeaderLen]byte
	if _, err := ref.f.ReadAt(hdr[:], 0); err != nil {
		return false
	}
	return l.nowMs()-record.MaxTimestampOf(hdr[:]) > l.cfg.MaxCompactionLagMs
}

// cleanPlan is a snapshot of the segments a clean reads, each .log pinned
// so retention or truncation running meanwhile cannot pull it away.
type cleanPlan struct {
	cleanRange
	segs  []*segment
	sizes []int64
	refs  []*FileRef
	mtime []int64 // modification times, ms
	limit int64   // base of the first segment not cleaned
	txns  cleanTxns
}

// planClean snapshots the cleanable segments; nil when there are none.
func (l *Log) planClean(upTo int64) (*cleanPlan, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, ErrClosed
	}
	r, err := l.cleanableRange(upTo)
	if err != nil || r.n == 0 {
		if r.n == 0 {
			l.clean.horizon = -1 // no closed segment holds a tombstone
		}
		return nil, err
	}
	p := &cleanPlan{cleanRange: r, limit: l.segs[r.n].base}
	for _, s := range l.segs[:r.n] {
		ref, err := l.files.Pin(s.logPath)
		if err != nil {
			p.release(l.files)
			return nil, err
		}
		var mt int64
		if st, err := os.Stat(s.logPath); err == nil {
			mt = st.ModTime().UnixMilli()
		}
		p.segs, p.sizes = append(p.segs, s), append(p.sizes, s.size)
		p.refs, p.mtime = append(p.refs, ref), append(p.mtime, mt)
	}
	if err := l.planTxns(p); err != nil {
		p.release(l.files)
		return nil, err
	}
	return p, nil
}

func (p *cleanPlan) release(fc *FileCache) {
	for _, r := range p.refs {
		fc.Unpin(r)
	}
	p.refs = nil
}

// nextBase is the base offset of the segment after segment i of the plan.
func (p *cleanPlan) nextBase(i int) int64 {
	if i+1 < len(p.segs) {
		return p.segs[i+1].base
	}
	return p.limit
}

// groups splits the first k segments into runs rewritten as one segment
// each: at most segment.bytes of input (so small cleaned segments merge),
// and an offset range the relative offsets of one index can address.
func (p *cleanPlan) groups(k int, maxBytes int64) [][2]int {
	var out [][2]int
	for i := 0; i < k; {
		j, size := i+1, p.sizes[i]
		for j < k && size+p.sizes[j] <= maxBytes && p.nextBase(j)-1-p.segs[i].base <= math.MaxInt32 {
			size += p.sizes[j]
			j++
		}
		out = append(out, [2]int{i, j})
		i = j
	}
	return out
}
