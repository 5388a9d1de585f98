package broker

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"

	"spool/authz"
	"spool/config"
	"spool/controller/metadata"
	"spool/protocol"
	"spool/security"
	"spool/storage"
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
}

// Broker is the data plane of one node.
type Broker struct {
	cfg         Config
	log         *zap.Logger
	controllers *controllerClient
	meta        *metadataFollower
	life        *lifecycle
	replicas    *replicaManager
	producerIDs *producerIDs
	fetchers    *fetcherManager
	isr         *isrManager
	groups      *coordinator
	txns        *txnCoordinator
	verifier    *txnVerifier

	fetchSessions *fetchSessionCache
	// fetchQuit ends long polls early when the broker shuts down.
	fetchQuit chan struct{}
	quitOnce  sync.Once
	netStats  *protocol.Stats

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New prepares a broker; Start runs it.
func New(cfg Config) (*Broker, error) {
	b := &Broker{cfg: cfg, log: cfg.Logger.Named("broker")}
	b.controllers = newControllerClient(cfg.Node.Voters, fmt.Sprintf("spool-broker-%d", cfg.NodeID), cfg.ControllerDial)
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
	b.meta = newMetadataFollower(newControllerClient(cfg.Node.Voters, fmt.Sprintf("spool-broker-%d-metadata", cfg.NodeID), cfg.ControllerDial), store, b.log.Named("metadata"))
	b.meta.snapshotBytes = cfg.Static.Int("metadata.log.max.record.bytes.between.snapshots")
	b.meta.fetchTimeout = time.Duration(cfg.Static.Int("controller.quorum.fetch.timeout.ms")) * time.Millisecond
	b.replicas = newReplicaManager(b)
	b.meta.publish = append(b.meta.publish, b.replicas.onMetadata, b.replicas.onConfigs, b.onKeystores)
	b.groups = newCoordinator(b)
	b.meta.publish = append(b.meta.publish, b.groups.onMetadata)
	b.txns = newTxnCoordinator(b)
	b.verifier = newTxnVerifier(b)
	b.meta.publish = append(b.meta.publish, b.txns.onMetadata)
	b.life = newLifecycle(b)
	b.producerIDs = &producerIDs{b: b}
	b.fetchers = newFetcherManager(b)
	b.isr = newISRManager(b)
	b.fetchSessions = newFetchSessionCache(sessionSlots(cfg.Static))
	b.fetchQuit = make(chan struct{})
	b.netStats = new(protocol.Stats)
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
	go func() { defer b.wg.Done(); b.runRetention(ctx) }()
	b.wg.Add(1)
	go func() { defer b.wg.Done(); b.runCleaner(ctx) }()
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
	b.groups.close()
	b.replicas.close()
	if b.meta.store != nil {
		b.meta.store.Close()
	}
}

// Register adds the client-facing APIs to mux.
func (b *Broker) Register(mux *protocol.Mux) {
	mux.Handle(1, 4, 17, b.handleFetch)
	mux.Handle(2, 1, 10, b.handleListOffsets)
	mux.Handle(0, 0, 12, b.handleProduce)
	mux.Handle(3, 0, 13, b.handleMetadata)
	mux.Handle(23, 2, 4, b.handleOffsetForLeaderEpoch)
	mux.Handle(19, 2, 7, b.async(b.handleCreateTopics))
	mux.Handle(20, 1, 6, b.async(b.handleDeleteTopics))
	mux.Handle(22, 0, 5, b.async(b.handleInitProducerId))
	mux.Handle(21, 0, 2, b.async(b.handleDeleteRecords))
	mux.Handle(60, 0, 2, b.handleDescribeCluster)
	mux.Handle(43, 0, 2, b.async(b.handleElectLeaders))
	mux.Handle(8, 2, 9, b.handleOffsetCommit)
	mux.Handle(9, 1, 9, b.handleOffsetFetch)
	mux.Handle(10, 0, 6, b.handleFindCoordinator)
	mux.Handle(11, 0, 9, b.handleJoinGroup)
	mux.Handle(12, 0, 4, b.handleHeartbeat)
	mux.Handle(13, 0, 5, b.handleLeaveGroup)
	mux.Handle(14, 0, 5, b.handleSyncGroup)
	mux.Handle(15, 0, 6, b.handleDescribeGroups)
	mux.Handle(16, 0, 5, b.handleListGroups)
	if consumerProtocolEnabled(b.cfg.Static) {
		mux.Handle(68, 0, 1, b.handleConsumerGroupHeartbeat)
		mux.Handle(69, 0, 1, b.handleConsumerGroupDescribe)
	}
	mux.Handle(42, 0, 2, b.async(b.handleDeleteGroups))
	mux.Handle(47, 0, 0, b.handleOffsetDelete)
	mux.Handle(24, 0, 5, b.async(b.handleAddPartitionsToTxn))
	mux.Handle(25, 0, 4, b.async(b.handleAddOffsetsToTxn))
	mux.Handle(26, 0, 4, b.async(b.handleEndTxn))
	mux.Handle(65, 0, 0, b.handleDescribeTransactions)
	mux.Handle(66, 0, 1, b.handleListTransactions)
	mux.Handle(28, 0, 4, b.handleTxnOffsetCommit)
	mux.Handle(32, 1, 4, b.handleDescribeConfigs)
	mux.Handle(33, 0, 2, b.async(b.handleAlterConfigs))
	mux.Handle(35, 1, 4, b.handleDescribeLogDirs)
	mux.Handle(37, 0, 3, b.async(b.handleCreatePartitions))
	mux.Handle(44, 0, 1, b.async(b.handleIncrementalAlterConfigs))
	mux.Handle(61, 0, 0, b.handleDescribeProducers)
	mux.Handle(27, 1, 1, b.async(b.handleWriteTxnMarkers))
	mux.Handle(50, 0, 0, b.handleDescribeUserScramCredentials)
	mux.Handle(51, 0, 0, b.async(b.handleAlterUserScramCredentials))
	mux.Handle(29, 1, 3, b.handleDescribeAcls)
	mux.Handle(30, 1, 3, b.async(b.handleCreateAcls))
	mux.Handle(31, 1, 3, b.async(b.handleDeleteAcls))
	mux.Handle(17, 0, 1, b.handleSaslHandshake)
	mux.Handle(36, 0, 2, b.handleSaslAuthenticate)
	mux.HandleRaw(protocol.CleanerStatusKey, b.handleCleanerStatus)
	mux.Features = b.apiVersionFeatures
}

// requestTimeout bounds a request forwarded to the controller.
const requestTimeout = 30 * time.Second

// async serves a request that waits (on the controller, on an fsync) off
// the connection's reading goroutine.
func (b *Broker) async(f func(ctx context.Context, req *protocol.Request) protocol.Response) protocol.ServeFunc {
	return func(req *protocol.Request, respond func(protocol.Response)) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
			defer cancel()
			respond(f(ctx, req))
		}()
	}
}
