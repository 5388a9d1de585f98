package broker

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"spool/controller/metadata"
	"spool/protocol"
	"spool/storage"
)

// localSnapshot finds the newest snapshot file in dir.
func localSnapshot(dir string) (metadata.SnapshotID, bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return metadata.SnapshotID{}, false, err
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	id, ok := metadata.LatestSnapshot(names)
	return id, ok, nil
}

func readSnapshotFile(path string, id metadata.SnapshotID) (*metadata.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := metadata.ReadSnapshot(f, id)
	return img, err
}

// loadSnapshot replaces the image with a snapshot from the controller,
// used when the follower is behind the controller's log start. The file is
// streamed to disk in chunks, then read back.
func (f *metadataFollower) loadSnapshot(id metadata.SnapshotID) error {
	dir := os.TempDir()
	if f.store != nil {
		dir = f.store.Dir()
	}
	tmp, err := os.CreateTemp(dir, ".snapshot-*.part")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	c, _ := f.cc.current()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := protocol.DownloadSnapshot(ctx, c, metadataTopic, id.EndOffset, id.Epoch, tmp); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	img, err := readSnapshotFile(tmp.Name(), id)
	if err != nil {
		return err
	}
	if f.store != nil {
		// Keep the snapshot as the start of the local log.
		if err := os.Rename(tmp.Name(), filepath.Join(dir, id.FileName())); err != nil {
			return err
		}
		if err := storage.SyncDir(dir); err != nil {
			return err
		}
		if err := f.store.Reset(id.EndOffset); err != nil {
			return err
		}
	}
	f.log.Info("loaded metadata snapshot", zap.String("snapshot", id.FileName()), zap.Int("topics", img.Topics.Len()))
	f.install(img)
	return nil
}

// install publishes a whole new image, telling publishers what changed
// relative to the current one.
func (f *metadataFollower) install(img *metadata.Image) {
	prev := f.Image()
	changes := diffTopics(prev, img)
	for _, p := range f.publish {
		p(prev, img, changes)
	}
	f.image.Store(img)
	f.notify()
}

// diffTopics computes the topic changes between two unrelated images.
func diffTopics(prev, next *metadata.Image) metadata.TopicChanges {
	var ch metadata.TopicChanges
	prev.Topics.Range(func(t *metadata.Topic) bool {
		if nt := next.Topics.ByID(t.ID); nt == nil {
			ch.Deleted = append(ch.Deleted, t)
		}
		return true
	})
	next.Topics.Range(func(t *metadata.Topic) bool {
		old := prev.Topics.ByID(t.ID)
		if old == nil {
			ch.Created = append(ch.Created, t)
			return true
		}
		if old == t {
			return true
		}
		ct := metadata.ChangedTopic{Topic: t}
		for _, p := range t.Partitions {
			ct.Partitions = append(ct.Partitions, p.ID)
		}
		ch.Changed = append(ch.Changed, ct)
		return true
	})
	return ch
}

// maybeSnapshot writes the image as a snapshot once enough metadata log has
// been applied since the last one, and drops the log behind it, as the
// controllers do; only for brokers keeping their own copy of the log.
func (f *metadataFollower) maybeSnapshot(img *metadata.Image, applied int) {
	if f.store == nil || f.snapshotBytes <= 0 {
		return
	}
	f.sinceSnapshot += int64(applied)
	if f.sinceSnapshot < f.snapshotBytes {
		return
	}
	f.sinceSnapshot = 0
	dir := f.store.Dir()
	id := metadata.SnapshotID{EndOffset: img.Offset + 1, Epoch: img.Epoch}
	if err := writeSnapshotFile(dir, id, img); err != nil {
		f.log.Error("metadata snapshot failed", zap.Error(err))
		return
	}
	if _, err := f.store.DeleteRecordsBefore(id.EndOffset); err != nil {
		f.log.Error("trim metadata log behind snapshot", zap.Error(err))
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if old, ok := metadata.ParseSnapshotFileName(e.Name()); ok && old.EndOffset < id.EndOffset {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	f.log.Info("wrote metadata snapshot", zap.String("snapshot", id.FileName()))
}

// writeSnapshotFile writes img durably as dir/<id>.checkpoint.
func writeSnapshotFile(dir string, id metadata.SnapshotID, img *metadata.Image) error {
	path := filepath.Join(dir, id.FileName())
	tmp, err := os.CreateTemp(dir, ".snapshot-*.part")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	err = metadata.WriteSnapshot(tmp, img, time.Now().UnixMilli(), nil)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err == nil {
		err = storage.SyncDir(dir)
	}
	return err
}
