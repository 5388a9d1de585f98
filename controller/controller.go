package controller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"

	"spool/authz"
	"spool/config"
	"spool/controller/metadata"
	"spool/protocol"
	"spool/storage"
)

// MetadataTopic is the name of the metadata log's topic.
const MetadataTopic = "__cluster_metadata"

// Config is what a controller needs to run.
type Config struct {
	NodeID         int32
	ClusterID      string
	MetadataLogDir string // the parent of __cluster_metadata-0
	// Voters is a static quorum (controller.quorum.voters). A dynamic one
	// (Dynamic, KIP-853) starts from InitialVoters when its log is new
	// (empty: this controller waits to be added) and finds the quorum
	// through BootstrapServers; Self is this controller as a member.
	Voters           []config.Voter
	Dynamic          bool
	InitialVoters    []Member
	BootstrapServers []string
	Self             Member
	ElectionTimeout  time.Duration
	SessionTimeout   time.Duration // broker.session.timeout.ms
	Static           *config.Config
	Storage          storage.Config
	Files            *storage.FileCache
	Logger           *zap.Logger
	Now              func() time.Time
	// LeaderRebalanceInterval is leader.imbalance.check.interval.seconds
	// when auto.leader.rebalance.enable is set, else 0.
	LeaderRebalanceInterval time.Duration
	// SnapshotBytes is metadata.log.max.record.bytes.between.snapshots.
	SnapshotBytes int64
	// Fsync replaces fdatasync of metadata log files (tests record order).
	Fsync func(*os.File) error
	// Dial connects to the other controllers (raft, snapshots) with the
	// controller listener's protocol and mechanism; nil is plain TCP.
	Dial protocol.DialFunc
	// Bootstrap are records a new cluster's first active controller writes
	// after metadata.version (the SCRAM credentials of `storage format
	// --add-scram`).
	Bootstrap []metadata.Record
	// Authorizer checks requests on the controller listener; nil when
	// authorizer.class.name is empty.
	Authorizer *authz.Authorizer
	// Tokens configures delegation tokens (off without a secret key).
	Tokens TokenConfig
}

// ErrNotController means this node is not the active controller (or not
// yet ready to act as one); the caller should retry against the leader.
var ErrNotController = errors.New("not the active controller")

// Controller runs the raft node and the controller logic.
type Controller struct {
	cfg   Config
	log   *zap.Logger
	store *raftStore
	rn    *raft.RawNode
	trans *transport
	// send hands a Ready's messages to the transport once its entries and
	// HardState are durable.
	send func([]*raftpb.Message)
	now  func() time.Time

	recv  chan *raftpb.Message
	peers raftPeers
	// raftRefused counts raft messages refused by the sender, entry and
	// lease checks; refusedLog rate-limits their log lines.
	raftRefused atomic.Int64
	// authRefused counts requests refused by the authorizer.
	authRefused atomic.Int64
	refusedLog  protocol.LogLimiter
	ops         chan func()
	stop        context.CancelFunc
	done        chan struct{}

	// Owned by the loop.
	committed  *metadata.Image
	spec       *metadata.Image // committed + this leader's proposals
	confState  *raftpb.ConfState
	isLeader   bool
	ready      bool // leader that has applied an entry of its own term
	term       uint64
	nextPropID uint64
	waiters    map[uint64]func(error)
	brokers    brokerSessions
	// lastLeaderContact is when a message of the current term last came
	// from the raft leader (leaseGuard).
	lastLeaderContact time.Time
	// appliedSinceSnapshot counts log bytes applied since the last
	// snapshot; snapshotting is set while one is being written.
	appliedSinceSnapshot int64
	snapshotting         bool
	// snapshotNow asks for a snapshot whatever the bytes applied (a
	// member joined a compacted log).
	snapshotNow   bool
	nextRebalance time.Time
	// nextTokenCheck is when expired delegation tokens are next removed.
	nextTokenCheck time.Time
	// leaderlessCheck asks the next tick to look for partitions an
	// election could give a leader; nextUncleanCheck is when it looks
	// anyway. uncleanElections counts out-of-sync replicas made leader.
	leaderlessCheck  bool
	nextUncleanCheck time.Time
	uncleanElections atomic.Int64
	// members are the controllers' directory ids and endpoints (see
	// membership.go); discovered are addresses the bootstrap servers gave
	// for controllers not (yet) in members; memberOp is the voter change
	// in progress.
	members    map[int32]Member
	discovered map[int32]string
	memberOp   *memberOp
	// nextSelfUpdate is when maybeUpdateSelf looks again.
	nextSelfUpdate time.Time

	// stalled holds a Ready that could not be written for lack of space
	// (see stall).
	stalled *stall

	// Published for other goroutines.
	image    atomic.Pointer[metadata.Image]
	full     atomic.Bool  // stalled != nil
	leaderID atomic.Int32 // node id of the raft leader, -1 if unknown
	view     atomic.Pointer[memberView]
	// discovering is set while a bootstrap server is being asked for the
	// quorum.
	discovering atomic.Bool
	epoch       atomic.Int32
	hw          highWatermark
}

// New opens the metadata log and prepares the raft node; Start runs it.
func New(cfg Config) (*Controller, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	dir := filepath.Join(cfg.MetadataLogDir, MetadataTopic+"-0")
	store, err := openRaftStore(dir, cfg.Storage, storage.Options{Logger: cfg.Logger, Now: cfg.Now, Files: cfg.Files, Fsync: cfg.Fsync})
	if err != nil {
		return nil, err
	}
	c := &Controller{
		cfg: cfg, log: cfg.Logger.Named("controller"), store: store, now: cfg.Now,
		recv: make(chan *raftpb.Message, 1024), ops: make(chan func(), 1024), done: make(chan struct{}),
		committed: store.image, waiters: map[uint64]func(error){},
		nextPropID: rand.Uint64() >> 1,
		brokers:    newBrokerSessions(),
		refusedLog: protocol.LogLimiter{Every: 10 * time.Second},
	}
	c.spec = c.committed
	c.confState = store.confState
	c.members, c.discovered = store.members, map[int32]string{}
	if !cfg.Dynamic {
		c.members = c.staticMembers()
	}
	c.image.Store(c.committed)
	c.leaderID.Store(-1)
	c.hw.init()
	c.hw.set(c.committed.Offset)
	if cfg.SnapshotBytes <= 0 {
		cfg.SnapshotBytes = 20 << 20
		c.cfg.SnapshotBytes = cfg.SnapshotBytes
	}
	if err := c.initRaft(); err != nil {
		store.close()
		return nil, err
	}
	return c, nil
}

func raftID(nodeID int32) uint64 { return uint64(nodeID) + 1 }
func nodeID(raftID uint64) int32 { return int32(raftID) - 1 }

func (c *Controller) initRaft() error {
	ticks := 10
	rc := &raft.Config{
		ID:              raftID(c.cfg.NodeID),
		ElectionTick:    ticks,
		HeartbeatTick:   1,
		Storage:         c.store.mem,
		Applied:         uint64(max(c.committed.Offset, 0)),
		MaxSizePerMsg:   1 << 20,
		MaxInflightMsgs: 256,
		CheckQuorum:     true,
		PreVote:         true,
		Logger:          raftLogger{c.log.Named("raft").Sugar()},
		// A removed leader steps down at once rather than leading a
		// quorum it is no longer part of.
		StepDownOnRemoval: true,
	}
	rn, err := raft.NewRawNode(rc)
	if err != nil {
		return fmt.Errorf("start raft: %w", err)
	}
	c.rn = rn
	if last, _ := c.store.mem.LastIndex(); last == 0 && c.store.snapshot.EndOffset == 0 {
		if peers := c.bootstrapPeers(); len(peers) > 0 {
			if err := rn.Bootstrap(peers); err != nil {
				return fmt.Errorf("bootstrap raft: %w", err)
			}
		} else {
			c.log.Info("waiting to be added to the controller quorum (formatted without initial controllers)", zap.Strings("bootstrap_servers", c.cfg.BootstrapServers))
		}
	}
	c.trans = newTransport(raftID(c.cfg.NodeID), nil, c.cfg.ElectionTimeout, c.cfg.Dial, c.log.Named("transport"))
	c.trans.unknown = c.discover
	c.send = c.trans.send
	c.store.download = c.downloadSnapshot
	c.publishMembers()
	return nil
}

// bootstrapPeers is the first configuration of a new log: the static
// voters, or a dynamic quorum's initial voters with their endpoints.
func (c *Controller) bootstrapPeers() []raft.Peer {
	var peers []raft.Peer
	if !c.cfg.Dynamic {
		for _, v := range c.cfg.Voters {
			peers = append(peers, raft.Peer{ID: raftID(v.ID)})
		}
		return peers
	}
	for _, m := range c.cfg.InitialVoters {
		peers = append(peers, raft.Peer{ID: raftID(m.ID), Context: memberContext(m)})
	}
	return peers
}

// downloadSnapshot streams snapshot id from the raft leader; loop only.
func (c *Controller) downloadSnapshot(id metadata.SnapshotID, w io.Writer) error {
	lead := c.rn.BasicStatus().Lead
	addr := c.peerAddr(nodeID(lead))
	if lead == raft.None || addr == "" {
		return fmt.Errorf("no known leader to fetch snapshot %s from", id.FileName())
	}
	cl := protocol.NewClientDial(addr, "spool-snapshot", c.cfg.Dial)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	return protocol.DownloadSnapshot(ctx, cl, MetadataTopic, id.EndOffset, id.Epoch, w)
}

// Start runs the raft loop until Close.
func (c *Controller) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	c.stop = cancel
	c.trans.start(ctx)
	go c.run(ctx)
}

// Close stops the loop and closes the metadata log.
func (c *Controller) Close() error {
	if c.stop != nil {
		c.stop()
		<-c.done
	}
	return c.store.close()
}

// RaftRefused counts the raft messages refused (unknown or mismatched
// sender, undecodable entries, a lease-breaking term).
func (c *Controller) RaftRefused() int64 { return c.raftRefused.Load() }

// Image is the latest committed image.
func (c *Controller) Image() *metadata.Image { return c.image.Load() }

// LeaderID is the node id of the active controller, or -1.
func (c *Controller) LeaderID() int32 { return c.leaderID.Load() }

// Epoch is the current raft term.
func (c *Controller) Epoch() int32 { return c.epoch.Load() }

// NodeID is this controller's node id.
func (c *Controller) NodeID() int32 { return c.cfg.NodeID }

// ClusterID is the cluster's id.
func (c *Controller) ClusterID() string { return c.cfg.ClusterID }

// Step hands a raft message from a peer to the loop.
func (c *Controller) Step(m *raftpb.Message) {
	select {
	case c.recv <- m:
	default:
		// raft tolerates loss; a flooded loop must not block connections.
	}
}

// do runs f on the loop and waits for it.
func (c *Controller) do(ctx context.Context, f func()) error {
	done := make(chan struct{})
	select {
	case c.ops <- func() { f(); close(done) }:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return ErrNotController
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// write runs build on the loop against the speculative image. The records
// it returns are proposed; the returned error is nil once they commit.
// build's own error is returned as is, with nothing proposed.
func (c *Controller) write(ctx context.Context, build func(img *metadata.Image) ([]metadata.Record, error)) error {
	result := make(chan error, 1)
	err := c.do(ctx, func() {
		if c.stalled != nil && (!c.ready || c.voterCount() > 1) {
			// A stalled node with other voters is not the active
			// controller, even for writes that change nothing (stall.go).
			result <- c.fullError(c.stalled.err)
			return
		}
		if !c.ready {
			result <- ErrNotController
			return
		}
		recs, err := build(c.spec)
		if err != nil || len(recs) == 0 {
			result <- err
			return
		}
		c.propose(recs, func(err error) { result <- err })
	})
	if err != nil {
		return err
	}
	select {
	case err := <-result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// highWatermark is the last applied offset of the metadata log, with a
// channel closed whenever it advances, for long-polling fetches.
type highWatermark struct {
	mu     sync.Mutex
	offset int64
	ch     chan struct{}
}

func (h *highWatermark) init() { h.ch = make(chan struct{}); h.offset = -1 }

func (h *highWatermark) set(off int64) {
	h.mu.Lock()
	if off > h.offset {
		h.offset = off
		close(h.ch)
		h.ch = make(chan struct{})
	}
	h.mu.Unlock()
}

func (h *highWatermark) get() (int64, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.offset, h.ch
}
