package broker

import (
	"path/filepath"
	"sync"

	"go.uber.org/zap"

	"spool/storage"
)

// cleanLogs is what each log dir's clean-shutdown record (see
// storage.WriteCleanShutdown) said at start: the partition directories
// closed cleanly by the last shutdown, which open without recovery. Each
// entry is used once: a directory opened again later in this run (deleted
// and re-created) is no longer the one that was closed.
type cleanLogs struct {
	mu   sync.Mutex
	dirs map[string]map[string]int64 // log dir -> partition dir name -> log end
}

// takeCleanLogs reads and durably removes every log dir's record before
// any log opens, so a crash in this run is never taken for a clean stop.
func takeCleanLogs(dirs []string, log *zap.Logger) *cleanLogs {
	c := &cleanLogs{dirs: map[string]map[string]int64{}}
	for _, d := range dirs {
		ends, err := storage.TakeCleanShutdown(d)
		if err != nil {
			// Without it every log in d recovers, which is safe.
			log.Warn("clean-shutdown record unreadable; recovering every log in the dir", zap.String("dir", d), zap.Error(err))
			continue
		}
		c.dirs[filepath.Clean(d)] = ends
	}
	return c
}

// take reports whether the partition directory was closed cleanly, and
// forgets it.
func (c *cleanLogs) take(partitionDir string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ends := c.dirs[logDirOf(partitionDir)]
	name := filepath.Base(partitionDir)
	_, ok := ends[name]
	delete(ends, name)
	return ok
}

// closeAll closes every partition without an fsync or a clean-shutdown
// marker each, then makes each log dir's filesystem durable with one
// syncfs and records there the partitions that closed cleanly. A broker
// with 100,000 partitions stops in seconds this way; one fsync a file
// (each flushing the device cache) took over a minute.
func closeAll(parts map[tp]*partition, syncs map[string]*storage.FilesystemSync, log *zap.Logger) {
	type closed struct {
		dir, name string
		end       int64
	}
	done := make(chan closed, len(parts))
	sem := make(chan struct{}, closeParallelism)
	var wg sync.WaitGroup
	for key, p := range parts {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := p.closeForShutdown(); err != nil {
				log.Error("close partition", zap.Stringer("partition", key), zap.Error(err))
				return
			}
			dir := p.log.Dir()
			done <- closed{logDirOf(dir), filepath.Base(dir), p.log.LogEndOffset()}
		}()
	}
	wg.Wait()
	close(done)
	byDir := map[string]map[string]int64{}
	for c := range done {
		if byDir[c.dir] == nil {
			byDir[c.dir] = map[string]int64{}
		}
		byDir[c.dir][c.name] = c.end
	}
	for dir, ends := range byDir {
		s := syncs[dir]
		if s == nil {
			continue
		}
		// The descriptor was opened at start, so the sync also reports
		// writeback errors of data written during the run and never
		// fsynced (syncfs reports errors since the file's open).
		if err := s.Sync(); err != nil {
			log.Error("log dir not made durable at shutdown; its logs recover at the next start", zap.String("dir", dir), zap.Error(err))
			continue
		}
		if err := storage.WriteCleanShutdown(dir, ends); err != nil {
			log.Error("clean-shutdown record not written; the next start recovers every log in the dir", zap.String("dir", dir), zap.Error(err))
		}
	}
}

// openFilesystemSyncs opens each log dir for the syncfs at shutdown.
func openFilesystemSyncs(dirs []string, log *zap.Logger) map[string]*storage.FilesystemSync {
	syncs := map[string]*storage.FilesystemSync{}
	for _, d := range dirs {
		s, err := storage.OpenFilesystemSync(d)
		if err != nil {
			log.Warn("log dir unreadable; its logs will recover at the next start", zap.String("dir", d), zap.Error(err))
			continue
		}
		syncs[filepath.Clean(d)] = s
	}
	return syncs
}
