package storage

import (
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"spool/record"
)

// Small files kept next to the segments.
const (
	cleanShutdownFile  = "clean-shutdown"
	recoveryPointFile  = "recovery-point"
	logStartOffsetFile = "log-start-offset"
)

// Log is one partition's log: an ordered list of segments, the last of which
// takes appends. It is safe for concurrent use; reads share a lock that
// appends, truncation and retention take exclusively.
type Log struct {
	dir   string
	lg    *zap.Logger
	now   func() time.Time
	files *FileCache
	fsync func(*os.File) error
	// flushes times flushes; nil times nothing.
	flushes *FlushStats
	onFail  func(*Log, error)
	// inflate: Options.Inflate.
	inflate *record.Budget
	// cleanDir: Options.Clean, for load.
	cleanDir bool
	// listing: the directory's names at open, until TakeListing.
	listing map[string]bool

	mu      sync.RWMutex
	cfg     Config
	segs    []*segment // sorted by base offset; never empty while open
	start   int64      // log start offset
	leo     int64      // log end offset
	flushed int64      // recovery point: every offset below it is durable
	closed  bool

	// Group commit: at most one flush runs; flushDone closes when it ends.
	flushing    bool
	flushDone   chan struct{}
	gen         uint64 // bumped by truncation so a stale flush is not credited
	lastFlushMs int64
	dirDirty    bool // a segment file was created since the last flush
	// failed holds the error that failed the log; once set it never clears
	// (see ErrSyncFailed and ErrLogDirFailed).
	failed atomic.Pointer[error]

	scratch [timeEntrySize]byte // index entry encoding under mu

	// cleanMu lets one cleaner at a time work on the log; clean is its
	// state, guarded by mu.
	cleanMu sync.Mutex
	clean   cleanerState
}

// Open opens or creates the log in dir, recovering it if the last shutdown
// was not clean.
func Open(dir string, cfg Config, opts Options) (*Log, error) {
	opts = opts.withDefaults()
	if opts.Created {
		return create(dir, cfg, opts)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open log %s: %w", dir, err)
	}
	l := newLog(dir, cfg, opts)
	if err := l.load(); err != nil {
		l.releaseFiles()
		return nil, fmt.Errorf("open log %s: %w", dir, err)
	}
	l.loadCleanerState()
	return l, nil
}

func newLog(dir string, cfg Config, opts Options) *Log {
	l := &Log{
		dir:   dir,
		lg:    opts.Logger.With(zap.String("log", dir)),
		now:   opts.Now,
		files: opts.Files,
		fsync: opts.Fsync, flushes: opts.Flushes, onFail: opts.OnFail, cleanDir: opts.Clean,
		inflate: opts.Inflate,
		cfg:     cfg.sanitized(),
	}
	l.lastFlushMs = l.nowMs()
	return l
}

// create starts a log in a directory just created empty.
func create(dir string, cfg Config, opts Options) (*Log, error) {
	l := newLog(dir, cfg, opts)
	if err := l.initEmpty(0); err != nil {
		l.releaseFiles()
		return nil, fmt.Errorf("create log %s: %w", dir, err)
	}
	l.clean = cleanerState{firstDirty: 0, horizon: -1}
	return l, nil
}

func (l *Log) nowMs() int64 { return l.now().UnixMilli() }

// SetConfig applies a dynamic config change. Sizes that shape files (segment
// and index sizes) take effect from the next segment.
func (l *Log) SetConfig(cfg Config) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cfg = cfg.sanitized()
}

// Config returns the config in force.
func (l *Log) Config() Config {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.cfg
}

// LogStartOffset is the first offset a reader may fetch.
func (l *Log) LogStartOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.start
}

// LogEndOffset is the offset the next appended record gets.
func (l *Log) LogEndOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.leo
}

// FlushedOffset is the recovery point: every offset below it is durable.
func (l *Log) FlushedOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.flushed
}

// Size is the total bytes of all segments.
func (l *Log) Size() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var n int64
	for _, s := range l.segs {
		n += s.size
	}
	return n
}

// NumSegments reports how many segments the log has.
func (l *Log) NumSegments() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.segs)
}

// Dir is the partition directory.
func (l *Log) Dir() string { return l.dir }

// SyncFile makes a file the log's owner keeps beside it durable with the
// log's fsync (Options.Fsync), so tests observing the log's syncs see its
// owner's too.
func (l *Log) SyncFile(f *os.File) error { return l.fsync(f) }

// activeSeg is the segment appends go to.
func (l *Log) activeSeg() *segment { return l.segs[len(l.segs)-1] }

// segmentIndex returns the index of the last segment whose base offset is
// at most offset, or -1.
func (l *Log) segmentIndex(offset int64) int {
	return sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > offset }) - 1
}

// Close makes everything durable, trims the active segment's indexes and
// records a clean shutdown so the next Open skips recovery.
func (l *Log) Close() error { return l.close(true) }

// CloseUnsynced trims the active segment's indexes and closes the log as
// Close does, but neither fsyncs nor records a clean shutdown: the owner of
// many logs makes them durable together with one SyncFilesystem of their
// log dir and then records their clean shutdown at once
// (WriteCleanShutdown), and opens them with Options.Clean. On ext4 every
// fsync, even of an unchanged file, flushes the device cache, so a
// broker closing 100,000 partitions one fsync at a time takes minutes.
// Used alone it leaves the next Open to recover the log, which is safe.
func (l *Log) CloseUnsynced() error { return l.close(false) }

func (l *Log) close(marker bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.waitFlushLocked()
	err := l.closeLocked(marker)
	l.closed = true
	l.releaseFiles()
	if err != nil {
		return fmt.Errorf("close log %s: %w", l.dir, err)
	}
	return nil
}

func (l *Log) closeLocked(marker bool) error {
	if err := l.failure(); err != nil {
		// No clean-shutdown marker: the next open must recover and find
		// out what reached the disk.
		return err
	}
	if err := l.activeSeg().deactivate(l.files, l.scratch[:]); err != nil {
		return err
	}
	if !marker {
		// The owner syncs the whole filesystem before it records a clean
		// shutdown; the recovery point on disk (advanced at every roll and
		// truncation) stays true, so a crash after the next start recovers
		// from it, as from a crash in this run.
		return nil
	}
	for _, s := range l.segs {
		if s.closedSynced {
			continue
		}
		if err := l.syncSegmentFiles(s, true); err != nil {
			return err
		}
	}
	if err := l.syncLogDir(); err != nil {
		return err
	}
	l.flushed = l.leo
	if err := writeOffsetFile(l.dir, recoveryPointFile, l.leo); err != nil {
		return err
	}
	return writeMarker(l.dir, cleanShutdownFile)
}

// syncSegmentFiles fsyncs the .log and, for a closed segment, its indexes.
func (l *Log) syncSegmentFiles(s *segment, indexes bool) error {
	ps, n := s.syncPaths(indexes)
	for _, p := range ps[:n] {
		ref, err := l.files.Pin(p)
		if err != nil {
			return err
		}
		err = l.syncFile(ref.f)
		l.files.Unpin(ref)
		if err != nil {
			return err
		}
	}
	return nil
}

// releaseFiles drops this log's descriptors from the cache; pinned ones
// close when their readers let go.
func (l *Log) releaseFiles() {
	for _, s := range l.segs {
		for _, p := range s.paths() {
			l.files.Forget(p, nil)
		}
	}
}

// Delete closes the log and removes its directory. Readers holding a Slice
// keep reading from their open descriptors.
func (l *Log) Delete() error {
	l.mu.Lock()
	if !l.closed {
		l.waitFlushLocked()
		l.closed = true
		l.releaseFiles()
	}
	l.mu.Unlock()
	if err := os.RemoveAll(l.dir); err != nil {
		return fmt.Errorf("delete log %s: %w", l.dir, err)
	}
	return nil
}

// waitFlushLocked waits, with mu held on entry and exit, until no flush is
// running, so truncation never races an fsync that would credit stale data.
func (l *Log) waitFlushLocked() {
	for l.flushing {
		ch := l.flushDone
		l.mu.Unlock()
		<-ch
		l.mu.Lock()
	}
}
