//go:build linux

package main

import (
	"strings"

	"go.uber.org/zap"
)

// logBanner writes the one line that says what this process is: its
// version, identity, every bound listener (the controller's too) and where
// its data lives. It is logged once the listeners are bound, so the
// addresses are the real ones (port 0 resolved).
func logBanner(log *zap.Logger, n *node) {
	var roles []string
	if n.cfg.Broker {
		roles = append(roles, "broker")
	}
	if n.cfg.Controller {
		roles = append(roles, "controller")
	}
	var lns []string
	for _, l := range append(append([]listener(nil), n.brkLns...), n.ctrlLns...) {
		lns = append(lns, l.name+"://"+l.ln.Addr().String())
	}
	if n.http != nil && n.http.ln != nil {
		scheme := "http://"
		if n.http.settings.TLS != nil {
			scheme = "https://"
		}
		lns = append(lns, "HTTP="+scheme+n.http.ln.Addr().String())
	}
	var adv []string
	for _, l := range n.advertised() {
		adv = append(adv, l.Name+"://"+l.Addr())
	}
	log.Info("spool starting",
		zap.String("version", buildInfo().short()),
		zap.Int32("node.id", n.cfg.NodeID),
		zap.String("process.roles", strings.Join(roles, ",")),
		zap.String("cluster.id", n.clusterID),
		zap.Strings("listeners", lns),
		zap.Strings("advertised.listeners", adv),
		zap.Strings("log.dirs", n.cfg.LogDirs),
		zap.String("metadata.log.dir", n.cfg.MetadataLogDir))
	if !n.cfg.Dynamic() && n.static.IsSet("controller.quorum.bootstrap.servers") {
		// Kafka's rule: static voters win. Said aloud, so the setting is
		// not silently ignored.
		log.Warn("controller.quorum.voters is set, so the quorum is static and controller.quorum.bootstrap.servers is not used")
	}
}
