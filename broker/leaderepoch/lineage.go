package leaderepoch

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

// FileName is Kafka's name for the per-partition epoch lineage.
const FileName = "leader-epoch-checkpoint"

// Kafka's "undefined" answers of OffsetForLeaderEpoch.
const (
	UndefinedEpoch  int32 = -1
	UndefinedOffset int64 = -1
)

type epochStart struct {
	epoch int32
	start int64 // first offset written in this epoch
}

// Lineage is a partition's leader epoch lineage: the first offset of
// every leader epoch in its log. Followers use it to find where their log
// diverges from a new leader's (KIP-101, KIP-279), so it is kept in step
// with appends and truncations and checkpointed to disk.
type Lineage struct {
	mu      sync.Mutex
	dir     string
	entries []epochStart // ascending epoch and start
	dirty   bool         // entries not yet checkpointed
}

// New returns an empty lineage checkpointed in dir.
func New(dir string) *Lineage { return &Lineage{dir: dir} }

// Load reads dir's checkpoint; a missing file is an empty
// lineage (rebuilt from batch headers by the caller).
func Load(dir string) (*Lineage, error) {
	le := &Lineage{dir: dir}
	raw, err := os.ReadFile(filepath.Join(dir, FileName))
	if errors.Is(err, os.ErrNotExist) {
		return le, nil
	}
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	var version, n int
	if !sc.Scan() || parseInts(sc.Text(), &version) != nil || version != 0 {
		return nil, fmt.Errorf("%s: bad version line", filepath.Join(dir, FileName))
	}
	if !sc.Scan() || parseInts(sc.Text(), &n) != nil {
		return nil, fmt.Errorf("%s: bad count line", filepath.Join(dir, FileName))
	}
	for i := 0; i < n; i++ {
		var e epochStart
		if !sc.Scan() {
			return nil, fmt.Errorf("%s: %d entries, want %d", filepath.Join(dir, FileName), i, n)
		}
		if _, err := fmt.Sscanf(sc.Text(), "%d %d", &e.epoch, &e.start); err != nil {
			return nil, fmt.Errorf("%s: entry %d: %w", filepath.Join(dir, FileName), i, err)
		}
		le.entries = append(le.entries, e)
	}
	return le, nil
}

func parseInts(s string, v *int) error {
	_, err := fmt.Sscanf(s, "%d", v)
	return err
}

// flushLocked writes the checkpoint atomically; the lineage stays dirty
// until a write succeeds.
func (le *Lineage) flushLocked() error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "0\n%d\n", len(le.entries))
	for _, e := range le.entries {
		fmt.Fprintf(&b, "%d %d\n", e.epoch, e.start)
	}
	if err := storage.WriteFileAtomic(filepath.Join(le.dir, FileName), b.Bytes()); err != nil {
		// The file on disk is stale: the next persist tries again.
		le.dirty = true
		return err
	}
	le.dirty = false
	return nil
}

// Assign records that epoch starts at offset, if epoch is newer than the
// latest known. It is written by the next Persist: an epoch matters on disk
// only once the log holds a batch of it, and a new leader of an empty
// partition then saves two fsyncs.
func (le *Lineage) Assign(epoch int32, offset int64) {
	le.mu.Lock()
	defer le.mu.Unlock()
	if n := len(le.entries); n > 0 && epoch <= le.entries[n-1].epoch {
		return
	}
	le.entries = append(le.entries, epochStart{epoch, offset})
	le.dirty = true
}

// Persist writes the checkpoint if Assign changed the lineage; call it
// after appending batches (cheap when nothing changed).
func (le *Lineage) Persist() error {
	le.mu.Lock()
	defer le.mu.Unlock()
	if !le.dirty {
		return nil
	}
	return le.flushLocked()
}

// Latest returns the newest epoch, or UndefinedEpoch.
func (le *Lineage) Latest() int32 {
	le.mu.Lock()
	defer le.mu.Unlock()
	if len(le.entries) == 0 {
		return UndefinedEpoch
	}
	return le.entries[len(le.entries)-1].epoch
}

// EndOffsetFor answers OffsetForLeaderEpoch: the largest epoch <= epoch
// and the offset where it ended (the next epoch's start, or logEnd for the
// latest epoch).
func (le *Lineage) EndOffsetFor(epoch int32, logEnd int64) (int32, int64) {
	le.mu.Lock()
	defer le.mu.Unlock()
	n := len(le.entries)
	if epoch < 0 || n == 0 {
		return UndefinedEpoch, UndefinedOffset
	}
	if le.entries[n-1].epoch == epoch {
		return epoch, logEnd
	}
	higher := sort.Search(n, func(i int) bool { return le.entries[i].epoch > epoch })
	if higher == n {
		return UndefinedEpoch, UndefinedOffset
	}
	if higher == 0 {
		return epoch, le.entries[0].start
	}
	return le.entries[higher-1].epoch, le.entries[higher].start
}

// TruncateFromEnd drops epochs that start at or after offset (the log was
// truncated to offset).
func (le *Lineage) TruncateFromEnd(offset int64) error {
	le.mu.Lock()
	defer le.mu.Unlock()
	i := sort.Search(len(le.entries), func(i int) bool { return le.entries[i].start >= offset })
	if i == len(le.entries) {
		return nil
	}
	le.entries = le.entries[:i]
	return le.flushLocked()
}

// TruncateFromStart forgets epochs wholly before offset (the log start
// moved), keeping the one covering offset, now starting there.
func (le *Lineage) TruncateFromStart(offset int64) error {
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

// Open loads a log's lineage, rebuilding it from batch headers
// when the checkpoint is missing (a log written before it existed, or a
// lost file) and dropping epochs past the log end (a crash lost the tail).
func Open(l *storage.Log) (*Lineage, error) {
	le, err := Load(l.Dir())
	if err != nil {
		return nil, err
	}
	if err := le.TruncateFromEnd(l.LogEndOffset()); err != nil {
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
		le.Assign(h.PartitionLeaderEpoch, h.BaseOffset)
		off = h.NextOffset()
	}
	return le, le.Persist()
}

// Slice returns the epochs of the offsets [from, below): the last epoch
// starting at or before from, and every later one starting before below.
// It is what a segment's remote copy carries (KIP-405).
func (le *Lineage) Slice(from, below int64) (epochs []int32, starts []int64) {
	le.mu.Lock()
	defer le.mu.Unlock()
	for i, e := range le.entries {
		if e.start >= below {
			break
		}
		if i+1 < len(le.entries) && le.entries[i+1].start <= from {
			continue
		}
		epochs, starts = append(epochs, e.epoch), append(starts, e.start)
	}
	return epochs, starts
}
