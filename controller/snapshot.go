package controller

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"spool/controller/metadata"
	"spool/storage"
)

// ControlRaftConfState holds raft's ConfState (protobuf) in a snapshot;
// ControlRaftMembers the members' directory ids and endpoints (JSON).
const (
	ControlRaftConfState int16 = 0x7f02
	ControlRaftMembers   int16 = 0x7f03
)

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

// loadSnapshot reads a snapshot file into an image, raft's conf state and
// the members' endpoints.
func loadSnapshot(dir string, id metadata.SnapshotID) (*metadata.Image, *raftpb.ConfState, map[int32]Member, error) {
	f, err := os.Open(filepath.Join(dir, id.FileName()))
	if err != nil {
		return nil, nil, nil, err
	}
	defer f.Close()
	img, extra, err := metadata.ReadSnapshot(f, id)
	if err != nil {
		return nil, nil, nil, err
	}
	cs := &raftpb.ConfState{}
	members := map[int32]Member{}
	for _, c := range extra {
		switch c.Type {
		case ControlRaftConfState:
			if err := proto.Unmarshal(c.Value, cs); err != nil {
				return nil, nil, nil, fmt.Errorf("snapshot %s: conf state: %w", id.FileName(), err)
			}
		case ControlRaftMembers:
			var list []Member
			if err := json.Unmarshal(c.Value, &list); err != nil {
				return nil, nil, nil, fmt.Errorf("snapshot %s: members: %w", id.FileName(), err)
			}
			for _, m := range list {
				members[m.ID] = m
			}
		}
	}
	return img, cs, members, nil
}

// writeSnapshot writes img durably as dir/<id>.checkpoint: a temp file,
// fsynced, renamed into place, the directory fsynced.
func writeSnapshot(dir string, img *metadata.Image, cs *raftpb.ConfState, members map[int32]Member, nowMs int64) (metadata.SnapshotID, error) {
	id := metadata.SnapshotID{EndOffset: img.Offset + 1, Epoch: img.Epoch}
	csBytes, err := proto.Marshal(cs)
	if err != nil {
		return id, err
	}
	list := make([]Member, 0, len(members))
	for _, m := range members {
		list = append(list, m)
	}
	membersBytes, _ := json.Marshal(list)
	path := filepath.Join(dir, id.FileName())
	tmp := path + ".part"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return id, err
	}
	err = metadata.WriteSnapshot(f, img, nowMs, []metadata.ControlRecord{{Type: ControlRaftConfState, Value: csBytes}, {Type: ControlRaftMembers, Value: membersBytes}})
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
	if c.snapshotting || (c.appliedSinceSnapshot < c.cfg.SnapshotBytes && !c.snapshotNow) || c.confState == nil {
		return
	}
	c.snapshotNow = false
	c.snapshotting = true
	img, cs, members := c.committed, proto.Clone(c.confState).(*raftpb.ConfState), c.members
	go func() {
		id, err := writeSnapshot(c.store.dir, img, cs, members, c.now().UnixMilli())
		c.ops <- func() {
			c.snapshotting = false
			defer func() {
				if c.snapshotNow { // asked for meanwhile
					c.maybeSnapshot()
				}
			}()
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
