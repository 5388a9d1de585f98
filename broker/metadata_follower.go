package broker

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/controller/metadata"
	"spool/record"
	"spool/storage"
)

// metadataTopic and its fixed id, as Kafka names them.
const metadataTopic = "__cluster_metadata"

// Publisher is told of every new image with what changed, in order, on the
// follower's goroutine.
type Publisher func(prev, next *metadata.Image, changes metadata.TopicChanges)

// metadataFollower fetches the committed metadata log from the active
// controller, optionally keeps it on disk, and publishes each fetched
// response's records as one new image.
type metadataFollower struct {
	cc      *controllerClient
	log     *zap.Logger
	store   *storage.Log // nil when a local controller already keeps the log
	image   atomic.Pointer[metadata.Image]
	publish []Publisher

	mu      sync.Mutex
	waiters []chan struct{}

	// snapshotBytes is metadata.log.max.record.bytes.between.snapshots;
	// sinceSnapshot counts log bytes applied since the last snapshot.
	snapshotBytes, sinceSnapshot int64
	// fetchTimeout is controller.quorum.fetch.timeout.ms.
	fetchTimeout time.Duration
	// hw is the metadata log's high watermark as the last fetch reported
	// it, lastFetch when a fetch last succeeded (unix ms): how far behind
	// the image is, and whether the broker still hears the controller.
	hw, lastFetch atomic.Int64
	// full is set while the local copy of the log cannot be appended to
	// for lack of space; the image stays where it is until space frees.
	full bool
	// onQuorum hears of each controller added to or removed from a
	// dynamic quorum, as the metadata log records it.
	onQuorum func(added metadata.QuorumMember, ok bool, removed []int32)
}

func newMetadataFollower(cc *controllerClient, store *storage.Log, log *zap.Logger) *metadataFollower {
	f := &metadataFollower{cc: cc, store: store, log: log, fetchTimeout: 2 * time.Second}
	f.image.Store(metadata.Empty())
	return f
}

// Image is the latest published image.
func (f *metadataFollower) Image() *metadata.Image { return f.image.Load() }

// replayLocal rebuilds the image from the local copy of the log: the
// newest snapshot, then the batches after it.
func (f *metadataFollower) replayLocal() error {
	if f.store == nil {
		return nil
	}
	if id, ok, err := localSnapshot(f.store.Dir()); err != nil {
		return err
	} else if ok {
		img, err := readSnapshotFile(filepath.Join(f.store.Dir(), id.FileName()), id)
		if err != nil {
			return err
		}
		f.install(img)
	}
	var buf []byte
	offset := max(f.store.LogStartOffset(), f.Image().Offset+1)
	for end := f.store.LogEndOffset(); offset < end; {
		sl, err := f.store.Read(offset, 1<<20, end, true)
		if err != nil {
			return err
		}
		if sl.Empty() {
			sl.Release()
			break
		}
		buf, err = sl.ReadAll(buf[:0])
		sl.Release()
		if err != nil {
			return err
		}
		next, err := f.applyBatches(buf, false)
		if err != nil {
			return err
		}
		offset = next
	}
	return nil
}

// run fetches until ctx ends.
func (f *metadataFollower) run(ctx context.Context) {
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		c, at := f.cc.current()
		req := f.fetchRequest()
		// controller.quorum.fetch.timeout.ms: past it without an answer the
		// controller is taken as gone and the next voter is tried.
		rctx, cancel := context.WithTimeout(ctx, f.fetchTimeout+time.Duration(req.MaxWaitMillis)*time.Millisecond)
		raw, err := c.Request(rctx, req)
		cancel()
		if err == nil {
			err = f.handle(raw.(*kmsg.FetchResponse), at)
		} else {
			f.cc.moveOn(at) // unreachable: try the next voter
		}
		if err == nil {
			backoff = 50 * time.Millisecond
			continue
		}
		if ctx.Err() != nil {
			return
		}
		f.log.Debug("metadata fetch failed", zap.String("controller", c.Addr()), zap.Error(err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Second)
	}
}

func (f *metadataFollower) fetchRequest() *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(12)
	req.ReplicaID = -1
	req.MaxWaitMillis = 500
	req.MaxBytes = 8 << 20
	t := kmsg.NewFetchRequestTopic()
	t.Topic = metadataTopic
	p := kmsg.NewFetchRequestTopicPartition()
	p.FetchOffset = f.Image().Offset + 1
	p.PartitionMaxBytes = 8 << 20
	p.CurrentLeaderEpoch = -1
	p.LastFetchedEpoch = -1
	t.Partitions = []kmsg.FetchRequestTopicPartition{p}
	req.Topics = []kmsg.FetchRequestTopic{t}
	return req
}

func (f *metadataFollower) handle(resp *kmsg.FetchResponse, at int) error {
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return kerr.UnknownServerError
	}
	p := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
		if p.CurrentLeader.LeaderID >= 0 {
			f.cc.hint(p.CurrentLeader.LeaderID)
		} else {
			f.cc.moveOn(at)
		}
		return err
	}
	f.hw.Store(p.HighWatermark)
	f.lastFetch.Store(time.Now().UnixMilli())
	if len(p.RecordBatches) == 0 {
		if p.SnapshotID.EndOffset >= 0 {
			return f.loadSnapshot(metadata.SnapshotID{EndOffset: p.SnapshotID.EndOffset, Epoch: p.SnapshotID.Epoch})
		}
		return nil
	}
	if f.store != nil {
		if _, err := f.store.AppendAsFollower(p.RecordBatches); err != nil {
			f.noteFull(err)
			return err
		}
		f.noteFull(nil)
	}
	if _, err := f.applyBatches(p.RecordBatches, true); err != nil {
		return err
	}
	f.maybeSnapshot(f.Image(), len(p.RecordBatches))
	return nil
}

// applyBatches replays whole batches into one delta and publishes the
// image; it returns the next offset to read.
func (f *metadataFollower) applyBatches(b []byte, publish bool) (int64, error) {
	prev := f.Image()
	delta := metadata.NewDelta(prev)
	next, last, epoch := prev.Offset+1, prev.Offset, prev.Epoch
	err := record.Split(b, func(batch []byte, h record.Header) error {
		if h.BaseOffset < next {
			return nil // already applied
		}
		next, last, epoch = h.NextOffset(), h.BaseOffset, h.PartitionLeaderEpoch
		if h.IsControl() {
			f.controlBatch(batch)
			return nil
		}
		_, recs, _, err := metadata.DecodeBatch(batch)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := delta.Replay(r); err != nil {
				f.log.Error("metadata record refused", zap.Int64("offset", h.BaseOffset), zap.String("type", metadata.TypeName(r.Type())), zap.Error(err))
			}
		}
		return nil
	})
	if err != nil {
		return next, err
	}
	if last == prev.Offset {
		return next, nil
	}
	delta.SetOffset(last, epoch)
	img := delta.Apply()
	changes := delta.ChangedTopics()
	// Publishers (the replica manager) act before handlers can see the
	// image, so a topic in the image always has its partitions open.
	for _, p := range f.publish {
		p(prev, img, changes)
	}
	f.image.Store(img)
	f.notify()
	return next, nil
}

// controlBatch passes the quorum's configuration changes to onQuorum.
func (f *metadataFollower) controlBatch(batch []byte) {
	if f.onQuorum == nil {
		return
	}
	_, _, ctl, err := metadata.DecodeBatch(batch)
	if err != nil || ctl == nil || ctl.Type != metadata.ControlConfChange {
		return
	}
	f.onQuorum(metadata.ConfChangeMembers(ctl.Value))
}

// waitUntil blocks until cond holds for the published image or ctx ends.
func (f *metadataFollower) waitUntil(ctx context.Context, cond func(*metadata.Image) bool) bool {
	for {
		f.mu.Lock()
		if cond(f.Image()) {
			f.mu.Unlock()
			return true
		}
		ch := make(chan struct{})
		f.waiters = append(f.waiters, ch)
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// notify wakes every waitUntil to re-check its condition.
func (f *metadataFollower) notify() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ch := range f.waiters {
		close(ch)
	}
	f.waiters = f.waiters[:0]
}

// noteFull says once when the local metadata log runs out of space and
// once when it has space again; the fetch loop retries meanwhile.
func (f *metadataFollower) noteFull(err error) {
	full := errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
	switch {
	case full && !f.full:
		f.log.Error("metadata log dir is out of space: the broker keeps serving with its current metadata until space is freed", zap.Error(err))
	case err == nil && f.full:
		f.log.Info("metadata log dir has space again; following the metadata log")
	case err != nil && !full:
		return // another failure says nothing about space
	}
	f.full = full
}
