package broker

import (
	"time"

	"slices"
	"sync"
	"sync/atomic"

	"spool/broker/leaderepoch"
	"spool/controller/metadata"
	"spool/storage"
)

// partition is one hosted replica: its log, what the image says about its
// leadership, its high watermark, and the fetches waiting for new data.
type partition struct {
	topic   string
	id      int32
	topicID [16]byte
	log     *storage.Log

	mu             sync.RWMutex
	leader         int32
	leaderEpoch    int32
	partitionEpoch int32
	replicas       []int32
	isr            []int32
	isLeader       bool
	// repl is the leader's view of its followers; nil unless leading a
	// partition with more than one replica.
	repl *replication

	// epochs is the leader epoch lineage of the log.
	epochs *leaderepoch.Lineage

	// appendMu serialises appends so offsets, producer state and the high
	// watermark advance together.
	appendMu sync.Mutex
	// highWatermark is the offset below which records are visible to
	// consumers. With an ISR of the leader alone it is the log end offset.
	highWatermark atomic.Int64
	// producers is the idempotent producer state (produce.go owns it).
	producers *producerStates
	// unreplicated lists transactions a marker ended whose marker the high
	// watermark may not cover yet: they still hold the last stable offset
	// back. Guarded by appendMu; txns publishes it with the open ones.
	unreplicated []txnRange
	txns         atomic.Pointer[txnView]
	// snapshotAt is the offset of the newest producer snapshot on disk, -1
	// if none; guarded by appendMu.
	snapshotAt int64

	waitMu  sync.Mutex
	waiters map[chan struct{}]struct{}

	// remoteStart is the first offset in the remote tier, -1 when nothing
	// is there (or the topic is not tiered): the log start offset clients
	// see when it is below the local one.
	remoteStart atomic.Int64
	// remote is the partition's remote view and the leader epoch it was
	// loaded under; owned by the remote log manager (remote_log_manager.go).
	remote remoteState
}

func newPartition(topic string, id int32, topicID [16]byte, l *storage.Log) *partition {
	p := &partition{topic: topic, id: id, topicID: topicID, log: l, leader: -1, waiters: map[chan struct{}]struct{}{}}
	p.highWatermark.Store(l.LogEndOffset())
	p.producers = newProducerStates()
	p.snapshotAt = -1
	p.remoteStart.Store(-1)
	p.epochs = leaderepoch.New(l.Dir())
	return p
}

// roleChange says how a metadata update changed this broker's role.
type roleChange int

const (
	roleSame roleChange = iota
	roleLeader
	roleFollower
	roleNone // leaderless, or not a replica any more
)

// setState applies the image's view of the partition and reports a change
// of role (or of leader epoch, which restarts the role).
func (p *partition) setState(mp *metadata.Partition, self int32) roleChange {
	p.mu.Lock()
	defer p.mu.Unlock()
	newEpoch := mp.LeaderEpoch != p.leaderEpoch || mp.Leader != p.leader
	p.leader, p.leaderEpoch, p.partitionEpoch = mp.Leader, mp.LeaderEpoch, mp.PartitionEpoch
	p.replicas = slices.Clone(mp.Replicas)
	p.isr = slices.Clone(mp.ISR)
	p.isLeader = mp.Leader == self
	if p.repl != nil {
		p.repl.isrFromImage(p.isr, p.partitionEpoch)
		p.repl.replicasFromImage(p.replicas, time.Now())
	} else if p.isLeader && !newEpoch && len(p.replicas) > 1 {
		// A lone leader given followers by a reassignment starts tracking
		// them; they join the ISR once they reach this point of the log.
		p.repl = newReplication(self, p.replicas, p.isr, p.partitionEpoch, p.log.LogEndOffset(), time.Now())
	}
	switch {
	case !newEpoch:
		return roleSame
	case p.isLeader:
		return roleLeader
	case mp.Leader >= 0 && slices.Contains(mp.Replicas, self):
		return roleFollower
	}
	return roleNone
}

// inSyncReplicas returns the current ISR as the image says.
func (p *partition) inSyncReplicas() []int32 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.isr
}

// leadership returns whether this broker leads the partition and the
// current leader epoch.
func (p *partition) leadership() (bool, int32) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.isLeader, p.leaderEpoch
}

// HighWatermark is the first offset consumers may not yet read.
func (p *partition) HighWatermark() int64 { return p.highWatermark.Load() }

// advanceHighWatermark moves the high watermark and wakes waiting fetches.
func (p *partition) advanceHighWatermark(off int64) {
	for {
		cur := p.highWatermark.Load()
		if off <= cur {
			return
		}
		if p.highWatermark.CompareAndSwap(cur, off) {
			break
		}
	}
	p.notifyWaiters()
}

// addWaiter registers w (buffered, capacity 1) to be signalled when new
// data becomes visible; removeWaiter unregisters it.
func (p *partition) addWaiter(w chan struct{}) {
	p.waitMu.Lock()
	p.waiters[w] = struct{}{}
	p.waitMu.Unlock()
}

func (p *partition) removeWaiter(w chan struct{}) {
	p.waitMu.Lock()
	delete(p.waiters, w)
	p.waitMu.Unlock()
}

func (p *partition) notifyWaiters() {
	p.waitMu.Lock()
	for w := range p.waiters {
		select {
		case w <- struct{}{}:
		default:
		}
	}
	p.waitMu.Unlock()
}

// close snapshots the producer state at the log end, so a clean restart
// replays nothing, then closes the log.
func (p *partition) close() error {
	err := p.snapshotProducers()
	if cerr := p.log.Close(); err == nil {
		err = cerr
	}
	return err
}

// closeForShutdown is close for a broker stopping: neither the producer
// snapshot nor the log is synced, and the log is not marked clean on its
// own (closeAll does both for all of a log dir's files at once: one syncfs,
// then the clean-shutdown record). A crash before that syncfs leaves no
// record, so the log recovers and a torn snapshot fails its checksum.
func (p *partition) closeForShutdown() error {
	err := p.snapshotProducersWith(nil)
	if cerr := p.log.CloseUnsynced(); err == nil {
		err = cerr
	}
	return err
}
