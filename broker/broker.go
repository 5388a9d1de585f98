package broker

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"spool/authz"
	"spool/config"
	"spool/controller/metadata"
	"spool/protocol"
	"spool/quota"
	"spool/record"
	"spool/security"
	"spool/storage"
	"spool/tiered"
)

// Config is what a broker needs to run.
type Config struct {
	NodeID            int32
	ClusterID         string
	Static            *config.Config
	Node              *config.Node
	Advertised        []config.Listener
	Rack              *string
	LogDirs           []string
	DirectoryIDs      [][16]byte
	HeartbeatInterval time.Duration
	// KeepMetadataLog makes the broker keep its own copy of the metadata
	// log; a combined node does not, since its controller keeps the log in
	// the same directory.
	KeepMetadataLog bool
	MetadataLogDir  string
	Files           *storage.FileCache
	Logger          *zap.Logger
	// InterBrokerDial connects to other brokers' inter-broker listener and
	// ControllerDial to the controllers, with the configured protocol and
	// SASL mechanism; nil means plain TCP.
	InterBrokerDial protocol.DialFunc
	ControllerDial  protocol.DialFunc
	// Keystores are the TLS listeners' certificates, by listener name,
	// reloaded when their listener.name.<l>.ssl.keystore.* change.
	Keystores map[string]*security.Keystore
	// Authorizer checks every request against the image's ACLs; nil when
	// authorizer.class.name is empty.
	Authorizer *authz.Authorizer
	// Quotas throttles clients over their byte rates and request time
	// (see quotas.go); nil means the client quotas of the metadata image.
	Quotas Quotas
	// Tier is the remote tier (remote.log.storage.system.enable); nil
	// when tiered storage is off.
	Tier *tiered.Tier
}

// Broker is the data plane of one node.
type Broker struct {
	cfg Config
	// authRefused counts requests the authorizer refused.
	authRefused atomic.Int64
	log         *zap.Logger
	controllers *controllerClient
	meta        *metadataFollower
	life        *lifecycle
	replicas    *replicaManager
	dirs        *logDirs
	producerIDs *producerIDs
	fetchers    *fetcherManager
	// replThrottle are the replication throttles (replication_throttle.go).
	replThrottle replicationThrottles
	// acceptRate measures max.connection.creation.rate (quotas.go).
	acceptMu   sync.Mutex
	acceptRate *quota.Rate
	isr        *isrManager
	groups     *coordinator
	shares     *shareManager
	txns       *txnCoordinator
	verifier   *txnVerifier
	// inflate bounds the memory of batches inflated at once to validate
	// them (queued.max.inflated.bytes).
	inflate *record.Budget

	fetchSessions *fetchSessionCache
	// fetchQuit ends long polls early when the broker shuts down.
	fetchQuit chan struct{}
	quitOnce  sync.Once
	netStats  *protocol.Stats
	// Counters for Stats (stats.go).
	topicStats *topicStats
	// readReplicas picks the replica a consumer with a rack reads from,
	// and counts what consumers read from this broker as a follower.
	readReplicas readReplicas
	isrCount     isrCounters
	cleanerCount cleanerCounters
	flushes      storage.FlushStats

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New prepares a broker; Start runs it.
func New(cfg Config) (*Broker, error) {
	b := &Broker{cfg: cfg, log: cfg.Logger.Named("broker")}
	if b.cfg.Quotas == nil {
		b.cfg.Quotas = newClientQuotas(b.quotaWindow(), b.Image)
	}
	b.controllers = newControllerClient(cfg.Node, fmt.Sprintf("spool-broker-%d", cfg.NodeID), cfg.ControllerDial)
	var store *storage.Log
	if cfg.KeepMetadataLog {
		var err error
		dir := filepath.Join(cfg.MetadataLogDir, metadataTopic+"-0")
		if store, err = storage.Open(dir, storage.DefaultConfig(), storage.Options{Logger: b.log, Files: cfg.Files}); err != nil {
			return nil, fmt.Errorf("open metadata log: %w", err)
		}
	}
	// The follower fetches over its own connections: its long polls would
	// otherwise hold up registration and heartbeats.
	b.meta = newMetadataFollower(newControllerClient(cfg.Node, fmt.Sprintf("spool-broker-%d-metadata", cfg.NodeID), cfg.ControllerDial), store, b.log.Named("metadata"))
	b.meta.onQuorum = func(added metadata.QuorumMember, ok bool, removed []int32) {
		b.controllers.learn(added, ok, removed)
		b.meta.cc.learn(added, ok, removed)
	}
	b.meta.snapshotBytes = cfg.Static.Int("metadata.log.max.record.bytes.between.snapshots")
	b.meta.fetchTimeout = time.Duration(cfg.Static.Int("controller.quorum.fetch.timeout.ms")) * time.Millisecond
	b.dirs = newLogDirs(b)
	b.replicas = newReplicaManager(b)
	b.topicStats = newTopicStats()
	b.readReplicas.rackAware = rackAwareSelector(cfg.Static)
	b.meta.publish = append(b.meta.publish, b.replicas.onMetadata, b.replicas.onConfigs, b.onKeystores, b.onISRChange)
	b.groups = newCoordinator(b)
	b.shares = newShareManager(b)
	b.meta.publish = append(b.meta.publish, b.groups.onMetadata)
	b.txns = newTxnCoordinator(b)
	b.verifier = newTxnVerifier(b)
	b.inflate = record.NewBudget(protocol.InflatedBytes(cfg.Static.Int("queued.max.inflated.bytes")))
	b.meta.publish = append(b.meta.publish, b.txns.onMetadata)
	b.life = newLifecycle(b)
	b.producerIDs = &producerIDs{b: b}
	b.fetchers = newFetcherManager(b)
	b.isr = newISRManager(b)
	b.fetchSessions = newFetchSessionCache(sessionSlots(cfg.Static))
	b.fetchQuit = make(chan struct{})
	b.netStats = new(protocol.Stats)
	b.replThrottle = newReplicationThrottles(b)
	return b, nil
}

// Start replays the local metadata log, starts following the controller,
// registers and heartbeats. Unfenced is closed once clients may be served.
func (b *Broker) Start() error {
	if err := b.meta.replayLocal(); err != nil {
		return fmt.Errorf("replay metadata log: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.wg.Add(4)
	go func() { defer b.wg.Done(); b.meta.run(ctx) }()
	go func() { defer b.wg.Done(); b.isr.run(ctx) }()
	go func() { defer b.wg.Done(); b.runFlusher(ctx) }()
	go func() {
		defer b.wg.Done()
		if err := b.life.register(ctx); err != nil {
			if ctx.Err() == nil {
				b.log.Error("broker registration failed", zap.Error(err))
			}
			return
		}
		b.life.heartbeat(ctx)
	}()
	b.wg.Add(1)
	go func() { defer b.wg.Done(); b.dirs.run(ctx) }()
	b.wg.Add(1)
	go func() { defer b.wg.Done(); b.runRetention(ctx) }()
	b.wg.Add(1)
	go func() { defer b.wg.Done(); b.runCleaner(ctx) }()
	if b.cfg.Tier != nil {
		b.wg.Add(1)
		go func() { defer b.wg.Done(); b.runRemoteLogManager(ctx) }()
	}
	return nil
}

// Unfenced is closed when the controller first unfences the broker.
func (b *Broker) Unfenced() <-chan struct{} { return b.life.unfenced }

// Image is the broker's current metadata image.
func (b *Broker) Image() *metadata.Image { return b.meta.Image() }

// ControlledShutdown asks the controller to move leadership away and waits
// until it may stop; requests keep being served meanwhile.
func (b *Broker) ControlledShutdown(ctx context.Context) {
	b.endLongPolls()
	if b.life.epoch.Load() > 0 {
		b.life.controlledShutdown(ctx)
	}
}

// Close stops the loops and closes every log; call it once the listeners
// have stopped serving.
func (b *Broker) Close() {
	if b.cancel != nil {
		b.cancel()
	}
	b.wg.Wait()
	b.fetchers.stop()
	b.logNetStats()
	b.controllers.close()
	b.meta.cc.close()
	b.txns.close()
	b.verifier.close()
	b.shares.close()
	b.groups.close()
	b.replicas.close()
	if b.meta.store != nil {
		b.meta.store.Close()
	}
}

// Register adds the client-facing APIs to mux.
func (b *Broker) Register(mux *protocol.Mux) {
	b.handle(mux, 1, 4, 18, b.handleFetch)
	b.handle(mux, 2, 1, 11, b.handleListOffsets)
	b.handle(mux, 0, 0, 13, b.handleProduce)
	b.handle(mux, 3, 0, 13, b.handleMetadata)
	b.handle(mux, 23, 2, 4, b.handleOffsetForLeaderEpoch)
	b.handle(mux, 19, 2, 7, b.async(b.mutationLimited(b.handleCreateTopics)))
	b.handle(mux, 20, 1, 6, b.async(b.mutationLimited(b.handleDeleteTopics)))
	b.handle(mux, 22, 0, 5, b.async(b.handleInitProducerId))
	b.handle(mux, 21, 0, 2, b.async(b.handleDeleteRecords))
	b.handle(mux, 60, 0, 2, b.handleDescribeCluster)
	b.handle(mux, 55, 0, 2, b.async(b.handleDescribeQuorum))
	b.handle(mux, 45, 0, 1, b.async(b.handleAlterPartitionAssignments))
	b.handle(mux, 46, 0, 0, b.async(b.handleListPartitionReassignments))
	b.handle(mux, 64, 0, 0, b.async(b.handleUnregisterBroker))
	b.handle(mux, 80, 0, 1, b.async(b.handleAddRaftVoter))
	b.handle(mux, 81, 0, 0, b.async(b.handleRemoveRaftVoter))
	b.handle(mux, 57, 0, 2, b.async(b.handleUpdateFeatures))
	b.handle(mux, 43, 0, 2, b.async(b.handleElectLeaders))
	b.handle(mux, 8, 2, 10, b.handleOffsetCommit)
	b.handle(mux, 9, 1, 10, b.handleOffsetFetch)
	b.handle(mux, 10, 0, 6, b.handleFindCoordinator)
	b.handle(mux, 11, 0, 9, b.handleJoinGroup)
	b.handle(mux, 12, 0, 4, b.handleHeartbeat)
	b.handle(mux, 13, 0, 5, b.handleLeaveGroup)
	b.handle(mux, 14, 0, 5, b.handleSyncGroup)
	b.handle(mux, 15, 0, 6, b.handleDescribeGroups)
	b.handle(mux, 16, 0, 5, b.handleListGroups)
	if consumerProtocolEnabled(b.cfg.Static) {
		b.handle(mux, 68, 0, 1, b.handleConsumerGroupHeartbeat)
		b.handle(mux, 69, 0, 1, b.handleConsumerGroupDescribe)
	}
	b.handle(mux, 76, 1, 1, b.shareGate(b.handleShareGroupHeartbeat))
	b.handle(mux, 77, 1, 1, b.shareGate(b.handleShareGroupDescribe))
	b.handle(mux, 78, 1, 2, b.shareGate(b.handleShareFetch))
	b.handle(mux, 79, 1, 2, b.shareGate(b.handleShareAcknowledge))
	b.handle(mux, 90, 0, 1, b.shareGate(b.handleDescribeShareGroupOffsets))
	b.handle(mux, 91, 0, 0, b.shareGate(b.handleAlterShareGroupOffsets))
	b.handle(mux, 92, 0, 0, b.shareGate(b.handleDeleteShareGroupOffsets))
	b.handle(mux, 83, 0, 0, b.handleInitializeShareGroupState)
	b.handle(mux, 84, 0, 0, b.handleReadShareGroupState)
	b.handle(mux, 85, 0, 1, b.handleWriteShareGroupState)
	b.handle(mux, 86, 0, 0, b.handleDeleteShareGroupState)
	b.handle(mux, 87, 0, 1, b.handleReadShareGroupStateSummary)
	b.handle(mux, 42, 0, 3, b.async(b.handleDeleteGroups))
	b.handle(mux, 47, 0, 0, b.handleOffsetDelete)
	b.handle(mux, 24, 0, 5, b.async(b.handleAddPartitionsToTxn))
	b.handle(mux, 25, 0, 4, b.async(b.handleAddOffsetsToTxn))
	b.handle(mux, 26, 0, 4, b.async(b.handleEndTxn))
	b.handle(mux, 65, 0, 0, b.handleDescribeTransactions)
	b.handle(mux, 66, 0, 2, b.handleListTransactions)
	b.handle(mux, 28, 0, 4, b.handleTxnOffsetCommit)
	b.handle(mux, 32, 1, 4, b.handleDescribeConfigs)
	b.handle(mux, 33, 0, 2, b.async(b.handleAlterConfigs))
	b.handle(mux, 35, 1, 5, b.handleDescribeLogDirs)
	b.handle(mux, 37, 0, 3, b.async(b.mutationLimited(b.handleCreatePartitions)))
	b.handle(mux, 44, 0, 1, b.async(b.handleIncrementalAlterConfigs))
	b.handle(mux, 74, 0, 1, b.handleListConfigResources)
	b.handle(mux, 75, 0, 0, b.handleDescribeTopicPartitions)
	b.handle(mux, 61, 0, 0, b.handleDescribeProducers)
	b.handle(mux, 27, 1, 1, b.async(b.handleWriteTxnMarkers))
	b.handle(mux, 50, 0, 0, b.handleDescribeUserScramCredentials)
	b.handle(mux, 51, 0, 0, b.async(b.handleAlterUserScramCredentials))
	b.handle(mux, 38, 1, 3, b.async(b.handleCreateDelegationToken))
	b.handle(mux, 39, 1, 2, b.async(b.handleRenewDelegationToken))
	b.handle(mux, 40, 1, 2, b.async(b.handleExpireDelegationToken))
	b.handle(mux, 41, 1, 3, b.handleDescribeDelegationToken)
	b.handle(mux, 48, 0, 1, b.handleDescribeClientQuotas)
	b.handle(mux, 49, 0, 1, b.async(b.handleAlterClientQuotas))
	b.handle(mux, 29, 1, 3, b.handleDescribeAcls)
	b.handle(mux, 30, 1, 3, b.async(b.handleCreateAcls))
	b.handle(mux, 31, 1, 3, b.async(b.handleDeleteAcls))
	b.handle(mux, 17, 0, 1, b.handleSaslHandshake)
	b.handle(mux, 36, 0, 2, b.handleSaslAuthenticate)
	mux.HandleRaw(protocol.CleanerStatusKey, b.guard(protocol.CleanerStatusKey, b.handleCleanerStatus))
	mux.Features = b.apiVersionFeatures
}

// requestTimeout bounds a request forwarded to the controller.
const requestTimeout = 30 * time.Second

// async serves a request that waits (on the controller, on an fsync) off
// the connection's reading goroutine.
func (b *Broker) async(f func(ctx context.Context, req *protocol.Request) protocol.Response) protocol.ServeFunc {
	return func(req *protocol.Request, respond func(protocol.Response)) {
		go func() {
			ctx, cancel := context.WithTimeout(req.Context(), requestTimeout)
			defer cancel()
			respond(f(ctx, req))
		}()
	}
}
