package broker

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"

	"spool/storage"
)

// logDirCheckInterval is how often every hosted log and every log dir is
// checked for having vanished. A removed partition directory is also caught
// by the next flush, which is what acknowledgements wait for; the check
// catches idle partitions and followers that flush later.
const logDirCheckInterval = time.Second

// logDirCheckBatch bounds the logs one check looks at (see check).
const logDirCheckBatch = 5000

// logDirs tracks which log dirs are offline. As in Kafka, an I/O error in
// any log of a dir takes the whole dir offline until restart: its logs
// refuse reads and writes (KAFKA_STORAGE_ERROR), the heartbeat reports it
// to the controller, which moves leadership to in-sync replicas elsewhere.
type logDirs struct {
	b   *Broker
	log *zap.Logger
	ids map[string][16]byte // log dir -> directory.id from meta.properties

	mu      sync.Mutex
	offline map[string]error
	// changed wakes the heartbeat loop so the controller hears at once.
	changed chan struct{}
	// pending are the logs the current round of checks has yet to look
	// at; only the run loop touches it.
	pending []*partition
}

func newLogDirs(b *Broker) *logDirs {
	d := &logDirs{b: b, log: b.log.Named("logdirs"), ids: map[string][16]byte{}, offline: map[string]error{}, changed: make(chan struct{}, 1)}
	for _, dir := range b.cfg.LogDirs {
		mp, err := storage.ReadMetaProperties(dir)
		if err != nil {
			continue
		}
		d.ids[filepath.Clean(dir)] = dirUUID(mp.DirectoryID)
	}
	return d
}

// dirUUID decodes a directory.id; a malformed one yields the zero id.
func dirUUID(s string) [16]byte {
	var id [16]byte
	if raw, err := base64.RawURLEncoding.DecodeString(s); err == nil && len(raw) == 16 {
		copy(id[:], raw)
	}
	return id
}

// logDirOf returns the log dir holding a partition directory.
func logDirOf(partitionDir string) string { return filepath.Dir(filepath.Clean(partitionDir)) }

// isOffline reports whether dir is offline.
func (d *logDirs) isOffline(dir string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.offline[filepath.Clean(dir)]
	return ok
}

// offlineIDs lists the directory ids of the offline dirs for the heartbeat.
func (d *logDirs) offlineIDs() [][16]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out [][16]byte
	for dir := range d.offline {
		out = append(out, d.ids[dir])
	}
	return out
}

// markOffline takes dir offline for good: every hosted log in it fails,
// followers stop fetching into it, and the controller is told.
func (d *logDirs) markOffline(dir string, cause error) {
	dir = filepath.Clean(dir)
	d.mu.Lock()
	if _, ok := d.offline[dir]; ok {
		d.mu.Unlock()
		return
	}
	d.offline[dir] = cause
	d.mu.Unlock()
	d.log.Error("log dir offline until restart: its partitions refuse reads and writes (KAFKA_STORAGE_ERROR) and the controller is asked to move their leadership to in-sync replicas on other brokers",
		zap.String("dir", dir), zap.Error(cause))
	for _, p := range d.b.replicas.all() {
		if logDirOf(p.log.Dir()) != dir {
			continue
		}
		p.log.Fail(fmt.Errorf("log dir %s offline: %w", dir, cause))
		d.b.fetchers.unfollow(p)
	}
	select {
	case d.changed <- struct{}{}:
	default:
	}
}

// onLogFailed is every hosted log's storage.Options.OnFail.
func (d *logDirs) onLogFailed(l *storage.Log, err error) {
	d.markOffline(logDirOf(l.Dir()), err)
}

// run checks the hosted logs and the log dirs every logDirCheckInterval
// and writes the high watermark checkpoints every
// replica.high.watermark.checkpoint.interval.ms.
func (d *logDirs) run(ctx context.Context) {
	hwEvery := time.Duration(d.b.cfg.Static.Int("replica.high.watermark.checkpoint.interval.ms")) * time.Millisecond
	check := time.NewTicker(logDirCheckInterval)
	defer check.Stop()
	hw := time.NewTicker(hwEvery)
	defer hw.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-check.C:
			d.check()
		case <-hw.C:
			d.b.replicas.checkpointHighWatermarks()
		}
	}
}

// check fails any log whose directory vanished, and takes offline a log
// dir that is gone or unreadable itself.
func (d *logDirs) check() {
	for _, dir := range d.b.cfg.LogDirs {
		if d.isOffline(dir) {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, storage.MetaPropertiesFile)); err != nil {
			d.markOffline(dir, fmt.Errorf("log dir unreadable: %w", err))
		}
	}
	// A failing CheckDir fails its log, whose OnFail takes the dir offline.
	// At most logDirCheckBatch logs a tick: a broker with up to that many
	// checks each every tick, one with 100,000 each within 20 s, for about
	// 2% of a core instead of all of one.
	if len(d.pending) == 0 {
		d.pending = d.b.replicas.all()
	}
	n := min(len(d.pending), logDirCheckBatch)
	for _, p := range d.pending[:n] {
		_ = p.log.CheckDir()
	}
	clear(d.pending[:n])
	d.pending = d.pending[n:]
}
