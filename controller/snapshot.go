package controller

import (
	"fmt"
	"os"
	"path/filepath"

	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"spool/controller/metadata"
	"spool/storage"
)

// ControlRaftConfState holds raft's ConfState (protobuf) in a snapshot.
const ControlRaftConfState int16 = 0x7f02

// snapshotFiles lists the snapshot files in dir.
func snapshotFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if _, ok := metadata.ParseSnapshotFileName(e.Name()); ok {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// latestSnapshot returns the newest complete snapshot in dir.
func latestSnapshot(dir string) (metadata.SnapshotID, bool, error) {
	names, err := snapshotFiles(dir)
	if err != nil {
		return metadata.SnapshotID{}, false, err
	}
	id, ok := metadata.LatestSnapshot(names)
	return id, ok, nil
}

// loadSnapshot reads a snapshot file into an image and raft's conf state.
func loadSnapshot(dir string, id metadata.SnapshotID) (*metadata.Image, *raftpb.ConfState, error) {
	f, err := os.Open(filepath.Join(dir, id.FileName()))
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	img, extra, err := metadata.ReadSnapshot(f, id)
	if err != nil {
		return nil, nil, err
	}
	cs := &raftpb.ConfState{}
	for _, c := range extra {
		if c.Type == ControlRaftConfState {
			if err := proto.Unmarshal(c.Value, cs); err != nil {
				return nil, nil, fmt.Errorf("snapshot %s: conf state: %w", id.FileName(), err)
			}
		}
	}
	return img, cs, nil
}

// writeSnapshot writes img durably as dir/<id>.checkpoint: a temp file,
// fsynced, renamed into place, the directory fsynced.
func writeSnapshot(dir string, img *metadata.Image, cs *raftpb.ConfState, nowMs int64) (metadata.SnapshotID, error) {
	id := metadata.SnapshotID{EndOffset: img.Offset + 1, Epoch: img.Epoch}
	csBytes, err := proto.Marshal(cs)
	if err != nil {
		return id, err
	}
	path := filepath.Join(dir, id.FileName())
	tmp := path + ".part"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return id, err
	}
	err = metadata.WriteSnapshot(f, img, nowMs, []metadata.ControlRecord{{Type: ControlRaftConfState, Value: csBytes}})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = storage.SyncDir(dir)
	}
	if err != nil {
		os.Remove(tmp)
		return id, fmt.Errorf("write snapshot %s: %w", id.FileName(), err)
	}
	return id, nil
}

// maybeSnapshot starts a snapshot of the committed image once enough log
// has been applied since the last one. The file is written off the loop
// (the image is immutable); the loop then compacts raft's log behind it.
func (c *Controller) maybeSnapshot() {
	if c.snapshotting || c.appliedSinceSnapshot < c.cfg.SnapshotBytes || c.confState == nil {
		return
	}
	c.snapshotting = true
	img, cs := c.committed, proto.Clone(c.confState).(*raftpb.ConfState)
	go func() {
		id, err := writeSnapshot(c.store.dir, img, cs, c.now().UnixMilli())
		c.ops <- func() {
			c.snapshotting = false
			if err != nil {
				c.log.Error("metadata snapshot failed", zap.Error(err))
				return
			}
			c.appliedSinceSnapshot = 0
			if err := c.store.compact(id, cs); err != nil {
				c.log.Error("compact metadata log", zap.Error(err))
				return
			}
			c.log.Info("wrote metadata snapshot", zap.String("snapshot", id.FileName()), zap.Int("topics", img.Topics.Len()))
		}
	}()
}
