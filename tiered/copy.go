package tiered

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"os"

	"golang.org/x/sync/errgroup"

	"spool/storage"
)

// CopyInput is a closed segment and what KIP-405 uploads with it.
type CopyInput struct {
	Segment storage.ClosedSegment
	// Epochs is the lineage from the segment's view: entries starting
	// before its end, the last earlier one included.
	Epochs []EpochStart
	// SnapshotPath and SnapshotOffset name the producer snapshot taken when
	// the segment rolled; empty when none is on disk.
	SnapshotPath   string
	SnapshotOffset int64
	BrokerID       int32
}

// Copy uploads one closed segment under a fresh segment id: a
// COPY_SEGMENT_STARTED manifest first (so a crash leaves a record to clean
// up, never an unnamed object), then the files, then the manifest as
// COPY_SEGMENT_FINISHED, which is when readers and local retention see it.
// Retrying a failed copy starts over with a new id; the abandoned one is
// cleaned by CleanPending.
func (p *Partition) Copy(ctx context.Context, in CopyInput) (*Segment, error) {
	cs := in.Segment
	s := &Segment{
		ID: newSegmentID(), TopicID: TopicIDString(p.key.TopicID), Topic: p.key.Topic, Partition: p.key.Partition,
		StartOffset: cs.Base, EndOffset: cs.Next - 1, MaxTimestamp: cs.MaxTimestamp, SizeBytes: cs.Size,
		LeaderEpochs: in.Epochs, ProducerSnapshotOffset: -1, BrokerID: in.BrokerID,
	}
	if in.SnapshotPath != "" {
		s.ProducerSnapshotOffset = in.SnapshotOffset
	}
	if fi, err := os.Stat(cs.TxnIndex); err == nil && fi.Size() > 0 {
		s.TxnIndex = true
	}
	if err := p.putManifest(ctx, s, CopyStarted); err != nil {
		return nil, err
	}
	p.notePending(s)
	files := []struct {
		suffix, path string
		optional     bool
	}{
		{sufLog, cs.LogPath, false},
		{sufIndex, cs.IndexPath, true},
		{sufTime, cs.TimeIndex, true},
		{sufTxn, cs.TxnIndex, true},
	}
	if in.SnapshotPath != "" {
		files = append(files, struct {
			suffix, path string
			optional     bool
		}{sufSnapshot, in.SnapshotPath, false})
	}
	// The files go up at once: each PUT waits mostly on the store.
	g, gctx := errgroup.WithContext(ctx)
	for _, f := range files {
		g.Go(func() error { return p.store.PutFile(gctx, p.key.object(s, f.suffix), f.path, f.optional) })
	}
	g.Go(func() error { return p.store.PutBytes(gctx, p.key.object(s, sufEpochs), epochCheckpoint(in.Epochs)) })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := p.putManifest(ctx, s, CopyFinished); err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.pending = removeID(p.pending, s.ID)
	p.segs = append(p.segs, s)
	p.mu.Unlock()
	p.store.stats.SegmentsCopied.Add(1)
	return s, nil
}

func removeID(list []*Segment, id string) []*Segment {
	out := list[:0]
	for _, s := range list {
		if s.ID != id {
			out = append(out, s)
		}
	}
	return out
}

// newSegmentID is a random id, Kafka's RemoteLogSegmentId.
func newSegmentID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
