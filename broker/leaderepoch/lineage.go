package broker

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"spool/record"
	"spool/storage"
)

// leaderEpochFile is Kafka's name for the per-partition epoch lineage.
const leaderEpochFile = "leader-epoch-checkpoint"

// Kafka's "undefined" answers of OffsetForLeaderEpoch.
const (
	undefinedEpoch       int32 = -1
	undefinedEpochOffset int64 = -1
)

type epochStart struct {
	epoch int32
	start int64 // first offset written in this epoch
}

// leaderEpochs is a partition's leader epoch lineage: the first offset of
// every leader epoch in its log. Followers use it to find where their log
// diverges from a new leader's (KIP-101, KIP-279), so it is kept in step
// with appends and truncations and checkpointed to disk.
type leaderEpochs struct {
	mu      sync.Mutex
	dir     string
	entries []epochStart // ascending epoch and start
	dirty   bool         // entries not yet checkpointed
}

// loadLeaderEpochs reads dir's checkpoint; a missing file is an empty
// lineage (rebuilt from batch headers by the caller).
func loadLeaderEpochs(dir string) (*leaderEpochs, error) {
	le := &leaderEpochs{dir: dir}
	raw, err := os.ReadFile(filepath.Join(dir, leaderEpochFile))
	if errors.Is(err, os.ErrNotExist) {
		return le, nil
	}
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	var version, n int
	if !sc.Scan() || parseInts(sc.Text(), &version) != nil || version != 0 {
		return nil, fmt.Errorf("%s: bad version line", filepath.Join(dir, leaderEpochFile))
	}
	if !sc.Scan() || parseInts(sc.Text(), &n) != nil {
		return nil, fmt.Errorf("%s: bad count line", filepath.Join(dir, leaderEpochFile))
	}
	for i := 0; i < n; i++ {
		var e epochStart
		if !sc.Scan() {
			return nil, fmt.Errorf("%s: %d entries, want %d", filepath.Join(dir, leaderEpochFile), i, n)
		}
		if _, err := fmt.Sscanf(sc.Text(), "%d %d", &e.epoch, &e.start); err != nil {
			return nil, fmt.Errorf("%s: entry %d: %w", filepath.Join(dir, leaderEpochFile), i, err)
		}
		le.entries = append(le.entries, e)
	}
	return le, nil
}

func parseInts(s string, v *int) error {
	_, err := fmt.Sscanf(s, "%d", v)
	return err
}

// flush writes the checkpoint atomically.
func (le *leaderEpochs) flushLocked() error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "0\n%d\n", len(le.entries))
	for _, e := range le.entries {
		fmt.Fprintf(&b, "%d %d\n", e.epoch, e.start)
	}
	return storage.WriteFileAtomic(filepath.Join(le.dir, leaderEpochFile), b.Bytes())
}

// assign records that epoch starts at offset, if epoch is newer than the
// latest known. It is written by the next persist: an epoch matters on disk
// only once the log holds a batch of it, and a new leader of an empty
// partition then saves two fsyncs.
func (le *leaderEpochs) assign(epoch int32, offset int64) {
	le.mu.Lock()
	defer le.mu.Unlock()
	if n := len(le.entries); n > 0 && epoch <= le.entries[n-1].epoch {
		return
	}
	le.entries = append(le.entries, epochStart{epoch, offset})
	le.dirty = true
}

// persist writes the checkpoint if assign changed the lineage; call it
// after appending batches (cheap when nothing changed).
func (le *leaderEpochs) persist() error {
	le.mu.Lock()
	defer le.mu.Unlock()
	if !le.dirty {
		return nil
	}
	le.dirty = false
	return le.flushLocked()
}

// latest returns the newest epoch, or undefinedEpoch.
func (le *leaderEpochs) latest() int32 {
	le.mu.Lock()
	defer le.mu.Unlock()
	if len(le.entries) == 0 {
		return undefinedEpoch
	}
	return le.entries[len(le.entries)-1].epoch
}

// endOffsetFor answers OffsetForLeaderEpoch: the largest epoch <= epoch
// and the offset where it ended (the next epoch's start, or logEnd for the
// latest epoch).
func (le *leaderEpochs) endOffsetFor(epoch int32, logEnd int64) (int32, int64) {
	le.mu.Lock()
	defer le.mu.Unlock()
	n := len(le.entries)
	if epoch < 0 || n == 0 {
		return undefinedEpoch, undefinedEpochOffset
	}
	if le.entries[n-1].epoch == epoch {
		return epoch, logEnd
	}
	higher := sort.Search(n, func(i int) bool { return le.entries[i].epoch > epoch })
	if higher == n {
		return undefinedEpoch, undefinedEpochOffset
	}
	if higher == 0 {
		return epoch, le.entries[0].start
	}
	return le.entries[higher-1].epoch, le.entries[higher].start
}

// truncateFromEnd drops epochs that start at or after offset (the log was
// truncated to offset).
func (le *leaderEpochs) truncateFromEnd(offset int64) error {
	le.mu.Lock()
	defer le.mu.Unlock()
	i := sort.Search(len(le.entries), func(i int) bool { return le.entries[i].start >= offset })
	if i == len(le.entries) {
		return nil
	}
	le.entries = le.entries[:i]
	le.dirty = false
	return le.flushLocked()
}

// truncateFromStart forgets epochs wholly before offset (the log start
// moved), keeping the one covering offset, now starting there.
func (le *leaderEpochs) truncateFromStart(offset int64) error {
	le.mu.Lock()
	defer le.mu.Unlock()
	i := sort.Search(len(le.entries), func(i int) bool { return le.entries[i].start > offset })
	if i <= 1 {
		return nil
	}
	kept := le.entries[i-1:]
	kept[0].start = offset
	le.entries = append(le.entries[:0], kept...)
	return le.flushLocked()
}

// openLeaderEpochs loads a log's lineage, rebuilding it from batch headers
// when the checkpoint is missing (a log written before it existed, or a
// lost file) and dropping epochs past the log end (a crash lost the tail).
func openLeaderEpochs(l *storage.Log) (*leaderEpochs, error) {
	le, err := loadLeaderEpochs(l.Dir())
	if err != nil {
		return nil, err
	}
	if err := le.truncateFromEnd(l.LogEndOffset()); err != nil {
		return nil, err
	}
	if len(le.entries) > 0 || l.LogEndOffset() == l.LogStartOffset() {
		return le, nil
	}
	var hdr [record.HeaderLen]byte
	for off, end := l.LogStartOffset(), l.LogEndOffset(); off < end; {
		sl, err := l.Read(off, 1, end, true)
		if err != nil || sl.Empty() {
			sl.Release()
			break
		}
		_, err = sl.File().ReadAt(hdr[:], sl.Pos())
		sl.Release()
		if err != nil {
			return nil, err
		}
		h, err := record.ParseHeader(hdr[:])
		if err != nil {
			return nil, err
		}
		le.assign(h.PartitionLeaderEpoch, h.BaseOffset)
		off = h.NextOffset()
	}
	return le, le.persist()
}
