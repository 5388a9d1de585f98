package broker

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"

	"spool/broker/leaderepoch"
	"spool/controller/metadata"
	"spool/storage"
	"spool/tiered"
)

// tp names a topic partition.
type tp struct {
	topic     string
	partition int32
}

func (t tp) String() string { return t.topic + "-" + strconv.Itoa(int(t.partition)) }

// replicaManager keeps one partition (and its log) for every replica this
// broker hosts, following the metadata image.
type replicaManager struct {
	b     *Broker
	log   *zap.Logger
	mu    sync.RWMutex
	parts map[tp]*partition
	// nextDir spreads new partitions over the log dirs.
	nextDir int
	wg      sync.WaitGroup
	// refused lists partitions this broker will not serve: their log dir
	// is offline, or their directory is missing while the checkpoint says
	// they held committed data (produce and fetch answer
	// KAFKA_STORAGE_ERROR). Guarded by mu.
	refused map[tp]bool

	// hwKnown is, per log dir, the last written high watermark
	// checkpoint (hw_checkpoint.go); guarded by hwMu.
	hwMu    sync.Mutex
	hwKnown map[string]map[tp]int64

	// clean lists the logs the last shutdown closed cleanly.
	clean *cleanLogs
	// fsSyncs make each log dir durable at shutdown (closeAll).
	fsSyncs map[string]*storage.FilesystemSync
}

func newReplicaManager(b *Broker) *replicaManager {
	rm := &replicaManager{b: b, log: b.log.Named("replicas"), parts: map[tp]*partition{}, refused: map[tp]bool{}}
	rm.clean = takeCleanLogs(b.cfg.LogDirs, rm.log)
	rm.fsSyncs = openFilesystemSyncs(b.cfg.LogDirs, rm.log)
	rm.loadHWCheckpoints()
	return rm
}

// offline reports whether key is refused (see refused).
func (rm *replicaManager) offline(key tp) bool {
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	return rm.refused[key]
}

// get returns the hosted partition, or nil.
func (rm *replicaManager) get(t tp) *partition {
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	return rm.parts[t]
}

// onMetadata creates, updates and deletes partitions as the image changes.
func (rm *replicaManager) onMetadata(prev, next *metadata.Image, ch metadata.TopicChanges) {
	self := rm.b.cfg.NodeID
	for _, t := range ch.Deleted {
		rm.removeTopic(t)
		rm.deleteRemote(prev, t)
	}
	var work []partitionWork
	for _, t := range ch.Created {
		for _, p := range t.Partitions {
			work = append(work, partitionWork{t, p})
		}
	}
	for _, c := range ch.Changed {
		for _, id := range c.Partitions {
			if p := c.Topic.Partition(id); p != nil {
				work = append(work, partitionWork{c.Topic, p})
			}
		}
	}
	rm.ensureAll(next, work, self)
}

type partitionWork struct {
	t *metadata.Topic
	p *metadata.Partition
}

// ensureParallelism bounds how many partitions open at once: opening one
// costs a few fsyncs (directory, partition.metadata, the first segment),
// which a disk serves far better in parallel than one after another.
const ensureParallelism = 16

// ensureAll applies a batch of partition changes, opening new partitions
// in parallel. The directories it creates become durable with one fsync
// of their log dir for the whole batch (not one each) before any of them
// takes a write.
func (rm *replicaManager) ensureAll(img *metadata.Image, work []partitionWork, self int32) {
	if len(work) < 2 {
		for _, w := range work {
			rm.ensure(img, w.t, w.p, self, nil)
		}
		return
	}
	opened := rm.openAll(img, work, self)
	inParallel(len(work), func(i int) {
		rm.ensure(img, work[i].t, work[i].p, self, &opened[i])
	})
}

// opening is what openAll did for one partition: tried says it opened
// (or failed to open) a partition that was not hosted yet.
type opening struct {
	tried bool
	part  *partition
	err   error
}

// openAll opens the batch's partitions that this broker hosts and does
// not have open yet, then fsyncs each log dir that got new directories.
func (rm *replicaManager) openAll(img *metadata.Image, work []partitionWork, self int32) []opening {
	out := make([]opening, len(work))
	created := &newDirs{dirs: map[string]bool{}}
	inParallel(len(work), func(i int) {
		t, p := work[i].t, work[i].p
		if !slices.Contains(p.Replicas, self) || rm.get(tp{t.Name, p.ID}) != nil {
			return
		}
		part, err := rm.open(img, t, p.ID, slices.Contains(p.ISR, self), created)
		out[i] = opening{tried: true, part: part, err: err}
	})
	for d := range created.dirs {
		err := storage.SyncDir(d)
		if err == nil {
			continue
		}
		rm.b.dirs.markOffline(d, fmt.Errorf("sync new partition directories: %w", err))
		for i := range out {
			if o := &out[i]; o.part != nil && logDirOf(o.part.log.Dir()) == d {
				o.part.close()
				o.part, o.err = nil, err
			}
		}
	}
	return out
}

// newDirs collects the log dirs in which a batch created partition
// directories.
type newDirs struct {
	mu   sync.Mutex
	dirs map[string]bool
}

func (n *newDirs) add(dir string) {
	n.mu.Lock()
	n.dirs[dir] = true
	n.mu.Unlock()
}

// inParallel runs fn(0..n-1) on up to ensureParallelism goroutines.
func inParallel(n int, fn func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(ensureParallelism, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// ensure opens the partition's log if this broker is a replica, and
// records its current leadership. pre, when set, is what openAll did.
func (rm *replicaManager) ensure(img *metadata.Image, t *metadata.Topic, p *metadata.Partition, self int32, pre *opening) {
	key := tp{t.Name, p.ID}
	if !slices.Contains(p.Replicas, self) {
		rm.removeReplica(key) // reassigned away from this broker
		return
	}
	part := rm.get(key)
	if part == nil {
		var err error
		if pre != nil && pre.tried {
			part, err = pre.part, pre.err
		} else {
			part, err = rm.open(img, t, p.ID, slices.Contains(p.ISR, self), nil)
		}
		if err != nil {
			rm.log.Error("partition offline: cannot open its log", zap.Stringer("partition", key), zap.Error(err))
			rm.mu.Lock()
			rm.refused[key] = true
			rm.mu.Unlock()
			return
		}
		rm.mu.Lock()
		rm.parts[key] = part
		delete(rm.refused, key)
		rm.mu.Unlock()
	}
	switch part.setState(p, self) {
	case roleSame:
		if isLeader, _ := part.leadership(); isLeader {
			// The controller may have shrunk the ISR (a fenced follower
			// dropped): the watermark the smaller ISR allows is due now,
			// not at the next append, or the dropped follower would look
			// caught up to a watermark it holds back.
			part.refreshHighWatermark()
		}
	case roleLeader:
		rm.b.fetchers.unfollow(part)
		if err := part.becomeLeader(self, time.Now()); err != nil {
			rm.log.Error("become leader", zap.Stringer("partition", key), zap.Error(err))
		}
	case roleFollower:
		part.becomeFollower()
		rm.b.fetchers.follow(part, p.Leader)
	case roleNone:
		part.becomeFollower()
		rm.b.fetchers.unfollow(part)
	}
}

// all returns every hosted partition.
func (rm *replicaManager) all() []*partition {
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	out := make([]*partition, 0, len(rm.parts))
	for _, p := range rm.parts {
		out = append(out, p)
	}
	return out
}

func (rm *replicaManager) open(img *metadata.Image, t *metadata.Topic, id int32, inISR bool, created *newDirs) (*partition, error) {
	key := tp{t.Name, id}
	dir, fresh, err := rm.dirFor(key, t.ID, inISR, created)
	if err != nil {
		return nil, err
	}
	if ld := logDirOf(dir); rm.b.dirs.isOffline(ld) {
		return nil, fmt.Errorf("log dir %s is offline until restart", ld)
	}
	cfg := rm.storageConfig(img, t.Name)
	l, err := storage.Open(dir, cfg, storage.Options{Logger: rm.log, Files: rm.b.cfg.Files, Flushes: &rm.b.flushes, OnFail: rm.b.dirs.onLogFailed,
		Clean: rm.clean.take(dir), Created: fresh, Inflate: rm.b.inflate})
	if err != nil {
		return nil, err
	}
	p := newPartition(t.Name, id, t.ID, l)
	// The checkpointed high watermark, never the log end: records past it
	// may exist on this replica only. Without a checkpoint it starts at 0
	// and the leader (or, leading, the ISR) moves it up again.
	_, hw, _ := rm.checkpointedHW(key)
	p.highWatermark.Store(min(hw, l.LogEndOffset()))
	if p.epochs, err = leaderepoch.Open(l); err != nil {
		l.Close()
		return nil, err
	}
	if err := p.loadProducers(fresh, l.TakeListing()); err != nil {
		l.Close()
		return nil, err
	}
	return p, nil
}

// dirFor finds the partition's directory in any log dir, or picks a log dir
// for a new one, and checks (or writes) the topic id it belongs to, so a
// re-created topic never reuses a deleted one's data. A new directory's
// entry is fsynced here, or, with created, noted for the caller to fsync
// once for many.
func (rm *replicaManager) dirFor(key tp, topicID [16]byte, inISR bool, created *newDirs) (dir string, fresh bool, err error) {
	dirs := rm.b.cfg.LogDirs
	for _, d := range dirs {
		if rm.b.dirs.isOffline(d) {
			continue
		}
		path := filepath.Join(d, key.String())
		id, err := readPartitionMetadata(path)
		if err != nil {
			// Only a missing directory sends the search on; it is
			// checked after the read, which most opens need alone.
			if _, serr := os.Stat(path); serr != nil {
				continue
			}
		}
		switch {
		case err == nil && id == topicID:
			return path, false, nil
		case err != nil:
			// Missing or torn by a crash (it is written without fsync):
			// the directory is this partition's; write it again.
			return path, false, writePartitionMetadata(path, topicID)
		}
		// Data of an older topic with the same name: move it aside.
		if err := rm.deleteDir(path); err != nil {
			return "", false, err
		}
	}
	if err := rm.checkMissing(key, inISR); err != nil {
		return "", false, err
	}
	d, err := rm.pickDir()
	if err != nil {
		return "", false, err
	}
	path := filepath.Join(d, key.String())
	if err := os.Mkdir(path, 0o755); err != nil {
		return "", false, err
	}
	// The new directory's entry must survive power loss along with the
	// data later fsynced inside it.
	if created != nil {
		created.add(filepath.Clean(d))
	} else if err := storage.SyncDir(d); err != nil {
		return "", false, err
	}
	return path, true, writePartitionMetadata(path, topicID)
}

// checkMissing refuses to create key's directory afresh when a log dir's
// high watermark checkpoint says it held committed records and this broker
// is still in its ISR: recreating it empty would hand out those offsets
// again, or let this replica lead without them. The log dir goes offline
// instead, so the controller moves leadership to a replica that has the
// data and drops this one from the ISR; after a restart it is recreated as
// a follower and copies the log back.
func (rm *replicaManager) checkMissing(key tp, inISR bool) error {
	dir, hw, ok := rm.checkpointedHW(key)
	if !ok || hw == 0 || !inISR {
		return nil
	}
	err := fmt.Errorf("partition directory %s is missing, but %s records its high watermark at %d and this broker is in its ISR: refusing to recreate it empty",
		filepath.Join(dir, key.String()), filepath.Join(dir, hwCheckpointFile), hw)
	rm.b.dirs.markOffline(dir, err)
	return err
}

// pickDir chooses an online log dir for a new partition, round robin.
func (rm *replicaManager) pickDir() (string, error) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	dirs := rm.b.cfg.LogDirs
	for range dirs {
		d := dirs[rm.nextDir%len(dirs)]
		rm.nextDir++
		if !rm.b.dirs.isOffline(d) {
			return d, nil
		}
	}
	return "", fmt.Errorf("every log dir is offline")
}

// removeTopic closes and deletes the topic's partitions in the background.
func (rm *replicaManager) removeTopic(t *metadata.Topic) {
	for _, p := range t.Partitions {
		rm.removeReplica(tp{t.Name, p.ID})
	}
}

// removeReplica stops hosting a partition and deletes its log: its topic
// is gone, or a reassignment moved it off this broker.
func (rm *replicaManager) removeReplica(key tp) {
	rm.mu.Lock()
	part := rm.parts[key]
	delete(rm.parts, key)
	rm.mu.Unlock()
	if part == nil {
		return
	}
	if rm.b.cfg.Tier != nil {
		rm.b.cfg.Tier.Forget(tiered.PartitionKey{Topic: part.topic, TopicID: part.topicID, Partition: part.id})
	}
	rm.b.fetchers.unfollow(part)
	part.close()
	rm.forgetHW(key)
	if err := rm.deleteDir(part.log.Dir()); err != nil {
		rm.log.Error("delete partition", zap.Stringer("partition", key), zap.Error(err))
	}
}

// deleteDir renames a partition directory out of the way at once (so a
// new topic of the same name starts clean) and removes it in the background.
func (rm *replicaManager) deleteDir(path string) error {
	gone := fmt.Sprintf("%s.%s-delete", path, storage.RandomUUID())
	if err := os.Rename(path, gone); err != nil {
		return err
	}
	rm.wg.Add(1)
	go func() {
		defer rm.wg.Done()
		if err := os.RemoveAll(gone); err != nil {
			rm.log.Error("remove deleted partition", zap.String("dir", gone), zap.Error(err))
		}
	}()
	return nil
}

// storageConfig resolves a topic's log settings from its configs and the
// broker's, dynamic ones included.
func (rm *replicaManager) storageConfig(img *metadata.Image, topic string) storage.Config {
	layers := rm.b.configLayers(img)
	tcfg := img.Configs[metadata.ConfigResource{Type: metadata.ConfigResourceTopic, Name: topic}]
	get := func(name string) int64 { return layers.TopicInt(tcfg, name) }
	c := storage.DefaultConfig()
	c.SegmentBytes = layers.TopicSegmentBytes(tcfg)
	c.SegmentMs = get("segment.ms")
	c.IndexIntervalBytes = int(get("index.interval.bytes"))
	c.MaxIndexBytes = int(get("segment.index.bytes"))
	c.FlushIntervalMessages = get("flush.messages")
	c.FlushIntervalMs = get("flush.ms")
	c.RetentionMs = get("retention.ms")
	c.RetentionBytes = get("retention.bytes")
	cleanupConfig(&c, layers, tcfg)
	return c
}

// closeParallelism bounds the partitions closed at once on shutdown.
const closeParallelism = 64

func (rm *replicaManager) close() {
	// A clean shutdown records the latest high watermarks.
	rm.checkpointHighWatermarks()
	rm.mu.Lock()
	parts := rm.parts
	rm.parts = map[tp]*partition{}
	rm.mu.Unlock()
	closeAll(parts, rm.fsSyncs, rm.log)
	for _, s := range rm.fsSyncs {
		_ = s.Close()
	}
	rm.wg.Wait()
}
