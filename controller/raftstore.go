package controller

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"spool/controller/metadata"
	"spool/record"
	"spool/storage"
)

// raftStore keeps raft's state durable in Spool's own files: entries in the
// __cluster_metadata log, HardState in quorum-state. raft reads through an
// in-memory MemoryStorage holding the entries since the last snapshot.
type raftStore struct {
	dir string
	log *storage.Log
	mem *raft.MemoryStorage
	// term and vote last written to quorum-state; commit is not persisted
	// on every change (raft recomputes it), only with term and vote.
	term, vote uint64
	buf        []byte
	now        func() time.Time
	// snapshot is the newest snapshot (EndOffset 0 if none) and image the
	// image it holds, which the controller starts from.
	snapshot  metadata.SnapshotID
	image     *metadata.Image
	confState *raftpb.ConfState
	members   map[int32]Member
	// writeState persists HardState; tests replace it to record ordering.
	writeState func(dir string, hs *raftpb.HardState) error
	// download fetches a snapshot file the leader told us to install.
	download func(id metadata.SnapshotID, w io.Writer) error
	// installed is set when save installed a snapshot from the leader.
	installed bool
}

// openRaftStore opens the metadata log in dir and loads raft's state: the
// newest snapshot, the entries after it, and HardState.
func openRaftStore(dir string, cfg storage.Config, opts storage.Options) (*raftStore, error) {
	l, err := storage.Open(dir, cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("open metadata log: %w", err)
	}
	s := &raftStore{dir: dir, log: l, mem: raft.NewMemoryStorage(), now: opts.Now, writeState: writeQuorumState, members: map[int32]Member{}}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.load(); err != nil {
		l.Close()
		return nil, err
	}
	return s, nil
}

func (s *raftStore) load() error {
	hs, err := readQuorumState(s.dir)
	if err != nil {
		return err
	}
	s.term, s.vote = hs.GetTerm(), hs.GetVote()
	s.image = metadata.Empty()
	start := s.log.LogStartOffset()
	if id, ok, err := latestSnapshot(s.dir); err != nil {
		return err
	} else if ok {
		img, cs, members, err := loadSnapshot(s.dir, id)
		if err != nil {
			return err
		}
		s.members = members
		snap := &raftpb.Snapshot{Data: []byte(id.FileName()), Metadata: &raftpb.SnapshotMetadata{
			Index: proto.Uint64(uint64(id.EndOffset - 1)), Term: proto.Uint64(uint64(id.Epoch)), ConfState: cs,
		}}
		if err := s.mem.ApplySnapshot(snap); err != nil {
			return err
		}
		s.snapshot, s.image, s.confState = id, img, cs
		start = max(start, id.EndOffset)
	}
	var entries []*raftpb.Entry
	err = s.scan(start, func(batch []byte) error {
		e, err := batchToEntry(batch)
		if err != nil {
			return err
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return fmt.Errorf("load metadata log: %w", err)
	}
	if err := s.mem.Append(entries); err != nil {
		return fmt.Errorf("load metadata log: %w", err)
	}
	last, _ := s.mem.LastIndex()
	if hs.GetCommit() < uint64(s.image.Offset+1) && s.snapshot.EndOffset > 0 {
		hs.Commit = proto.Uint64(uint64(s.snapshot.EndOffset - 1))
	}
	if hs.GetCommit() > last {
		// The commit index may name entries a crash lost before their
		// fsync only if quorum-state was newer than the log, which
		// save's ordering prevents; cap it defensively.
		hs.Commit = proto.Uint64(last)
	}
	return s.mem.SetHardState(hs)
}

// scan calls fn with every batch from offset to the end of the log.
func (s *raftStore) scan(offset int64, fn func(batch []byte) error) error {
	var buf []byte
	end := s.log.LogEndOffset()
	for offset < end {
		sl, err := s.log.Read(offset, 1<<20, end, true)
		if err != nil {
			return err
		}
		if sl.Empty() {
			sl.Release()
			return nil
		}
		buf, err = sl.ReadAll(buf[:0])
		sl.Release()
		if err != nil {
			return err
		}
		err = record.Split(buf, func(batch []byte, h record.Header) error {
			offset = h.NextOffset()
			return fn(batch)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// saveStep is how far save got with a Ready, so a write that ran out of
// space resumes where it stopped instead of repeating a finished step.
type saveStep int

const (
	saveSnapshot saveStep = iota
	saveEntries
	saveHardState
	saveDone
)

// save makes a Ready's entries and HardState durable, in that order, before
// the caller sends the Ready's messages. It starts at *step and advances it
// past each step that completes.
func (s *raftStore) save(rd *raft.Ready, step *saveStep) error {
	if *step == saveSnapshot {
		if !raft.IsEmptySnap(rd.Snapshot) {
			if err := s.installSnapshot(rd.Snapshot); err != nil {
				return err
			}
		}
		*step = saveEntries
	}
	if *step == saveEntries {
		if err := s.saveEntries(rd); err != nil {
			return err
		}
		*step = saveHardState
	}
	if *step == saveHardState {
		if hs := rd.HardState; hs != nil && !raft.IsEmptyHardState(hs) {
			// The commit index is written too when a configuration change
			// commits: a restarted controller applies the changes up to it
			// before it may campaign, so it never counts votes by a
			// membership the quorum has left.
			if hs.GetTerm() != s.term || hs.GetVote() != s.vote || commitsConfChange(rd.CommittedEntries) {
				if err := s.writeState(s.dir, hs); err != nil {
					return fmt.Errorf("write quorum state: %w", err)
				}
				s.term, s.vote = hs.GetTerm(), hs.GetVote()
			}
			if err := s.mem.SetHardState(hs); err != nil {
				return err
			}
		}
		*step = saveDone
	}
	return nil
}

// saveEntries appends a Ready's entries to the log (cutting off a
// conflicting tail first) and syncs them when raft asks.
func (s *raftStore) saveEntries(rd *raft.Ready) error {
	if len(rd.Entries) == 0 {
		return nil
	}
	first := int64(rd.Entries[0].GetIndex())
	if first < s.log.LogEndOffset() {
		if err := s.log.TruncateTo(first); err != nil {
			return fmt.Errorf("truncate metadata log to %d: %w", first, err)
		}
	}
	s.buf = s.buf[:0]
	nowMs := s.now().UnixMilli()
	for _, e := range rd.Entries {
		s.buf = entryToBatch(s.buf, e, nowMs)
	}
	if _, err := s.log.AppendAsFollower(s.buf); err != nil {
		return fmt.Errorf("append metadata log: %w", err)
	}
	if rd.MustSync {
		if err := s.log.Sync(context.Background(), s.log.LogEndOffset()); err != nil {
			return fmt.Errorf("sync metadata log: %w", err)
		}
	}
	return s.mem.Append(rd.Entries)
}

// installSnapshot replaces the log with a snapshot the leader sent: the
// file is downloaded (streamed, in chunks) unless it is already here, then
// becomes the start of the log.
func (s *raftStore) installSnapshot(snap *raftpb.Snapshot) error {
	id, ok := metadata.ParseSnapshotFileName(string(snap.Data))
	if !ok {
		return fmt.Errorf("raft snapshot with unknown id %q", snap.Data)
	}
	path := filepath.Join(s.dir, id.FileName())
	if _, err := os.Stat(path); err != nil {
		tmp := path + ".part"
		f, err := os.Create(tmp)
		if err != nil {
			return err
		}
		err = s.download(id, f)
		if err == nil {
			err = f.Sync()
		}
		f.Close()
		if err == nil {
			err = os.Rename(tmp, path)
		}
		if err != nil {
			os.Remove(tmp)
			return fmt.Errorf("download snapshot %s: %w", id.FileName(), err)
		}
	}
	img, cs, members, err := loadSnapshot(s.dir, id)
	if err != nil {
		return err
	}
	s.members = members
	if err := s.mem.ApplySnapshot(snap); err != nil {
		return err
	}
	if err := s.log.Reset(id.EndOffset); err != nil {
		return err
	}
	s.snapshot, s.image, s.confState, s.installed = id, img, cs, true
	return nil
}

// compact makes snapshot id raft's snapshot, drops the entries it covers
// from memory and the log, and deletes older snapshot files.
func (s *raftStore) compact(id metadata.SnapshotID, cs *raftpb.ConfState) error {
	idx := uint64(id.EndOffset - 1)
	if _, err := s.mem.CreateSnapshot(idx, cs, []byte(id.FileName())); err != nil {
		return err
	}
	if err := s.mem.Compact(idx); err != nil {
		return err
	}
	if _, err := s.log.DeleteRecordsBefore(id.EndOffset); err != nil {
		return err
	}
	s.snapshot = id
	names, err := snapshotFiles(s.dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		if old, _ := metadata.ParseSnapshotFileName(n); old.EndOffset < id.EndOffset {
			os.Remove(filepath.Join(s.dir, n))
		}
	}
	return nil
}

func commitsConfChange(entries []*raftpb.Entry) bool {
	for _, e := range entries {
		if e.GetType() != raftpb.EntryNormal {
			return true
		}
	}
	return false
}

func (s *raftStore) close() error { return s.log.Close() }
