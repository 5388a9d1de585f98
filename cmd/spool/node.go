//go:build linux

package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"go.uber.org/zap"

	"spool/authz"
	"spool/broker"
	"spool/config"
	"spool/controller"
	"spool/controller/metadata"
	"spool/protocol"
	"spool/storage"
	"spool/tiered"
)

// node wires one process: its listeners, controller and broker.
type node struct {
	log       *zap.Logger
	static    *config.Config
	cfg       *config.Node
	clusterID string
	dirIDs    [][16]byte
	metaDirID string // the metadata log dir's directory.id
	files     *storage.FileCache
	tier      *tiered.Tier // nil unless remote.log.storage.system.enable

	ctrl       *controller.Controller
	brk        *broker.Broker
	ctrlServer *protocol.Server
	brkServer  *protocol.Server
	ctrlLns    []listener
	brkLns     []listener
	sec        *nodeSecurity
	authz      *authz.Authorizer
	failed     chan error
	http       *nodeHTTP // the operator HTTP listener (http.go)
}

type listener struct {
	name string
	ln   net.Listener
}

// prepareNode checks the log dirs' format (formatting them when allowed)
// and binds every listener, so that every start-up problem is reported
// before anything runs.
func prepareNode(static *config.Config, cfg *config.Node, dev bool, clusterID string, log *zap.Logger) (*node, error) {
	n := &node{log: log, static: static, cfg: cfg, files: storage.NewFileCache(storage.DefaultFileCacheSize), failed: make(chan error, 2)}
	if err := checkDirs(formatDirs(cfg)); err != nil {
		return nil, err
	}
	if err := n.checkFormat(dev, clusterID); err != nil {
		return nil, err
	}
	az, err := authz.FromConfig(static)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	n.authz = az
	if n.tier, err = buildTier(static, cfg.Broker); err != nil {
		return nil, err
	}
	sec, err := buildSecurity(static, cfg, func(controller bool) func() *metadata.Image {
		if controller {
			return func() *metadata.Image {
				if n.ctrl == nil {
					return nil
				}
				return n.ctrl.Image()
			}
		}
		return func() *metadata.Image {
			if n.brk == nil {
				return nil
			}
			return n.brk.Image()
		}
	})
	if err != nil {
		return nil, err
	}
	n.sec = sec
	if err := n.bind(); err != nil {
		sec.close()
		return nil, err
	}
	if err := n.prepareHTTP(); err != nil {
		n.closeListeners()
		sec.close()
		return nil, err
	}
	return n, nil
}

// checkFormat reads meta.properties of every dir; unformatted dirs are
// formatted in dev mode or when a cluster id is given.
func (n *node) checkFormat(dev bool, clusterID string) error {
	if clusterID != "" {
		if err := storage.ValidClusterID(clusterID); err != nil {
			return usageErrorf("--cluster-id: %v", err)
		}
	}
	var unformatted []string
	for _, dir := range formatDirs(n.cfg) {
		mp, err := storage.ReadMetaProperties(dir)
		if errors.Is(err, storage.ErrNotFormatted) {
			unformatted = append(unformatted, dir)
			continue
		}
		if err != nil {
			return usageErrorf("%v", err)
		}
		if mp.NodeID != n.cfg.NodeID {
			return usageErrorf("log dir %s belongs to node.id %d but this node is node.id %d", dir, mp.NodeID, n.cfg.NodeID)
		}
		if n.clusterID != "" && mp.ClusterID != n.clusterID {
			return usageErrorf("log dirs belong to different clusters: %s has cluster.id %s, another has %s", dir, mp.ClusterID, n.clusterID)
		}
		if clusterID != "" && mp.ClusterID != clusterID {
			return usageErrorf("log dir %s belongs to cluster %s, not --cluster-id %s", dir, mp.ClusterID, clusterID)
		}
		n.clusterID = mp.ClusterID
		n.dirIDs = append(n.dirIDs, uuidBytes(mp.DirectoryID))
		if dir == n.cfg.MetadataLogDir {
			n.metaDirID = mp.DirectoryID
		}
	}
	if len(unformatted) == 0 {
		return nil
	}
	for _, dir := range unformatted {
		if dir == n.cfg.MetadataLogDir && n.cfg.Controller && n.cfg.Dynamic() {
			return usageErrorf("metadata log dir %s is not formatted and this controller is in a dynamic quorum (controller.quorum.bootstrap.servers); run: spool storage format --config FILE --cluster-id ID with --standalone, --initial-controllers or --no-initial-controllers", dir)
		}
	}
	switch {
	case clusterID != "":
	case n.clusterID != "":
		clusterID = n.clusterID
	case dev:
		clusterID = storage.RandomUUID()
	default:
		return usageErrorf("log dir %s is not formatted; run: spool storage format --config FILE --cluster-id $(spool storage random-uuid)", unformatted[0])
	}
	n.clusterID = clusterID
	for _, dir := range unformatted {
		mp := storage.MetaProperties{ClusterID: clusterID, NodeID: n.cfg.NodeID, DirectoryID: storage.RandomUUID()}
		if err := storage.WriteMetaProperties(dir, mp); err != nil {
			return fmt.Errorf("format %s: %w", dir, err)
		}
		n.dirIDs = append(n.dirIDs, uuidBytes(mp.DirectoryID))
		if dir == n.cfg.MetadataLogDir {
			n.metaDirID = mp.DirectoryID
		}
		n.log.Info("formatted log dir", zap.String("dir", dir), zap.String("cluster_id", clusterID))
	}
	return nil
}

func uuidBytes(s string) [16]byte {
	var id [16]byte
	b, _ := base64.RawURLEncoding.DecodeString(s)
	copy(id[:], b)
	return id
}

// bind opens every listener now, so a port in use is a start-up error.
func (n *node) bind() error {
	for _, l := range n.cfg.Listeners {
		ln, err := net.Listen("tcp", l.Addr())
		if err != nil {
			n.closeListeners()
			return usageErrorf("listeners: cannot listen on %s for %s: %v", l.Addr(), l.Name, causeOf(err))
		}
		if n.cfg.IsControllerListener(l.Name) {
			n.ctrlLns = append(n.ctrlLns, listener{l.Name, ln})
		} else {
			n.brkLns = append(n.brkLns, listener{l.Name, ln})
		}
	}
	return nil
}

func (n *node) closeListeners() {
	for _, l := range append(n.ctrlLns, n.brkLns...) {
		l.ln.Close()
	}
}

// start runs the controller (serving its listener at once) and the
// broker, whose listeners start serving once the controller unfences it.
// newController opens the controller with what format left in the
// metadata log dir (bootstrap records, a dynamic quorum's first voters).
func (n *node) newController() (*controller.Controller, error) {
	boot, err := readBootstrap(n.cfg.MetadataLogDir)
	if err != nil {
		return nil, err
	}
	initial, err := readInitialVoters(n.cfg.MetadataLogDir)
	if err != nil {
		return nil, err
	}
	return controller.New(controller.Config{
		Dial: n.sec.controllerDial, Bootstrap: boot, Authorizer: n.authz,
		NodeID: n.cfg.NodeID, ClusterID: n.clusterID, MetadataLogDir: n.cfg.MetadataLogDir,
		Voters: n.cfg.Voters, Dynamic: n.cfg.Dynamic(), InitialVoters: initial,
		BootstrapServers: n.cfg.BootstrapServers, Self: selfMember(n.cfg, n.metaDirID),
		ElectionTimeout:         time.Duration(n.static.Int("controller.quorum.election.timeout.ms")) * time.Millisecond,
		SessionTimeout:          time.Duration(n.static.Int("broker.session.timeout.ms")) * time.Millisecond,
		SnapshotBytes:           n.static.Int("metadata.log.max.record.bytes.between.snapshots"),
		LeaderRebalanceInterval: rebalanceInterval(n.static),
		Tokens:                  tokenConfig(n.static),
		Static:                  n.static, Storage: storage.DefaultConfig(), Files: n.files, Logger: n.log,
	})
}

func (n *node) start() error {
	maxReq := int(n.static.Int("socket.request.max.bytes"))
	ctrlLimits, err := protocol.LimitsFromConfig(n.static)
	if err != nil {
		return usageErrorf("%v", err)
	}
	// Kafka exempts the inter-broker listener from max.connections.
	brkLimits, _ := protocol.LimitsFromConfig(n.static, n.cfg.InterBrokerListener)
	if n.cfg.Controller {
		c, err := n.newController()
		if err != nil {
			return err
		}
		n.ctrl = c
		mux := protocol.NewMux(n.log.Named("controller"))
		mux.ClusterID, mux.NodeID = n.clusterID, n.cfg.NodeID
		c.Register(mux)
		n.ctrlServer = protocol.NewServer(mux, maxReq, n.log.Named("controller-net"))
		n.ctrlServer.RequestLog = n.log.Named("request")
		n.ctrlServer.Limits = ctrlLimits
		c.Start()
		for _, l := range n.ctrlLns {
			if sec := n.sec.listeners[l.name]; sec != nil {
				n.ctrlServer.SetSecurity(l.name, sec)
			}
			n.ctrlServer.Serve(l.ln, l.name)
		}
	}
	if n.cfg.Broker {
		b, err := broker.New(broker.Config{
			NodeID: n.cfg.NodeID, ClusterID: n.clusterID, Static: n.static, Node: n.cfg,
			Advertised: n.advertised(), Rack: n.cfg.Rack, LogDirs: n.cfg.LogDirs, DirectoryIDs: n.dirIDs,
			HeartbeatInterval: time.Duration(n.static.Int("broker.heartbeat.interval.ms")) * time.Millisecond,
			KeepMetadataLog:   !n.cfg.Controller, MetadataLogDir: n.cfg.MetadataLogDir,
			Files: n.files, Logger: n.log,
			InterBrokerDial: n.sec.interBrokerDial, ControllerDial: n.sec.controllerDial,
			Keystores: n.sec.keystores(n.cfg), Authorizer: n.authz, Tier: n.tier,
		})
		if err != nil {
			return err
		}
		n.brk = b
		mux := protocol.NewMux(n.log.Named("broker"))
		mux.ClusterID, mux.NodeID = n.clusterID, n.cfg.NodeID
		b.Register(mux)
		n.brkServer = protocol.NewServer(mux, maxReq, n.log.Named("broker-net"))
		n.brkServer.RequestLog = n.log.Named("request")
		n.brkServer.Stats = b.NetStats()
		n.brkServer.Limits = brkLimits
		n.brkServer.ConnectionQuota = b.ConnectionQuota
		n.brkServer.AcceptRate = b.AcceptRate
		for name, sec := range n.sec.listeners {
			if !n.cfg.IsControllerListener(name) {
				n.brkServer.SetSecurity(name, sec)
			}
		}
		if err := b.Start(); err != nil {
			return err
		}
		go n.serveClientsOnceUnfenced(b)
	}
	n.serveHTTP()
	return nil
}

// serveClientsOnceUnfenced opens the client listeners only after the
// controller has unfenced the broker, so clients never see a node that
// cannot lead.
func (n *node) serveClientsOnceUnfenced(b *broker.Broker) {
	<-b.Unfenced()
	for _, l := range n.brkLns {
		n.brkServer.Serve(l.ln, l.name)
		n.log.Info("serving clients", zap.String("listener", l.name), zap.Stringer("addr", l.ln.Addr()))
	}
}

// advertised fills in a host for listeners bound to all interfaces.
func (n *node) advertised() []config.Listener {
	out := append([]config.Listener(nil), n.cfg.Advertised...)
	for i := range out {
		if out[i].Host == "" || out[i].Host == "0.0.0.0" || out[i].Host == "::" {
			if h, err := os.Hostname(); err == nil {
				out[i].Host = h
			}
		}
	}
	return out
}

// stop shuts down in order: the broker hands off leadership and stops
// taking requests, in-flight requests finish, logs are flushed and closed,
// then the controller stops.
func (n *node) stop(ctx context.Context) {
	if n.http != nil {
		n.http.stopping.Store(true)
	}
	defer n.stopHTTP()
	if n.brk != nil {
		shutdownCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		n.brk.ControlledShutdown(shutdownCtx)
		n.brkServer.Shutdown(shutdownCtx)
		n.brk.Close()
		cancel()
	}
	if n.ctrl != nil {
		n.ctrlServer.Shutdown(ctx)
		if err := n.ctrl.Close(); err != nil {
			n.log.Error("close controller", zap.Error(err))
		}
	}
	n.closeListeners()
	if n.sec != nil {
		n.sec.close()
	}
}

// rebalanceInterval is how often the controller moves leadership back to
// preferred replicas; 0 when auto.leader.rebalance.enable is off.
func tokenConfig(c *config.Config) controller.TokenConfig {
	ms := func(k string) time.Duration { return time.Duration(c.Int(k)) * time.Millisecond }
	return controller.TokenConfig{SecretKey: c.Get("delegation.token.secret.key"),
		MaxLifetime: ms("delegation.token.max.lifetime.ms"), RenewTime: ms("delegation.token.expiry.time.ms"),
		CheckInterval: ms("delegation.token.expiry.check.interval.ms")}
}

func rebalanceInterval(c *config.Config) time.Duration {
	if !c.Bool("auto.leader.rebalance.enable") {
		return 0
	}
	return time.Duration(c.Int("leader.imbalance.check.interval.seconds")) * time.Second
}
