//go:build linux

package main

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"spool/admin"
	"spool/config"
	"spool/console"
	"spool/controller/metadata"
	"spool/logging"
	"spool/security"
)

// nodeHTTP is the node's operator HTTP listener (admin) and its one
// metrics registry, shared with the debug listener's /metrics.
type nodeHTTP struct {
	settings admin.Settings
	ln       net.Listener
	srv      *admin.Server
	console  *console.Console
	registry *prometheus.Registry
	stopping atomic.Bool
}

// prepareHTTP checks the http.* settings and binds the listener, so its
// problems are start-up errors (exit 2) like the Kafka listeners'.
func (n *node) prepareHTTP() error {
	s, err := admin.LoadSettings(n.static, n.cfg.Listeners)
	if err != nil {
		return usageErrorf("%v", err)
	}
	ln, err := admin.Listen(s)
	if err != nil {
		return usageErrorf("http.listener: cannot listen on %s: %v", s.Addr, causeOf(err))
	}
	n.http = &nodeHTTP{settings: s, ln: ln}
	return nil
}

// metricsRegistry is the process's registry over the node's parts; it is
// made once the node has started, when those parts exist.
func (n *node) metricsRegistry() *prometheus.Registry {
	if n.http == nil {
		n.http = &nodeHTTP{}
	}
	if n.http.registry == nil {
		src := admin.Sources{Broker: n.brk, Controller: n.ctrl}
		if n.brkServer != nil {
			src.Servers = append(src.Servers, admin.NamedServer{Name: "broker", Server: n.brkServer})
		}
		if n.ctrlServer != nil {
			src.Servers = append(src.Servers, admin.NamedServer{Name: "controller", Server: n.ctrlServer})
		}
		n.http.registry = admin.NewRegistry(src)
	}
	return n.http.registry
}

// serveHTTP starts the operator listener once the node has started.
func (n *node) serveHTTP() {
	if n.http == nil || n.http.ln == nil {
		return
	}
	opts := admin.Options{Settings: n.http.settings, Logger: n.log, Registry: n.metricsRegistry(), Health: n}
	if lv := logging.LevelsOf(n.log); lv != nil {
		opts.Levels = lv
	}
	if n.http.settings.Auth == admin.AuthBasic {
		opts.Scram = n.scramForHTTP()
	}
	n.http.console = n.newConsole()
	opts.Console = n.http.console
	n.http.srv = admin.NewServer(opts)
	n.http.srv.Serve(n.http.ln)
}

// stopHTTP stops the listener last, so probes see the shutdown.
func (n *node) stopHTTP() {
	if n.http == nil {
		return
	}
	if n.http.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n.http.srv.Shutdown(ctx)
		n.http.console.Close()
	} else if n.http.ln != nil {
		n.http.ln.Close()
	}
}

// Live implements admin.Health: the controller's loop answers.
func (n *node) Live() error {
	if n.ctrl != nil {
		if _, err := n.ctrl.Stats(); err != nil {
			return fmt.Errorf("controller loop does not answer: %v", err)
		}
	}
	return nil
}

// Ready implements admin.Health: a broker is ready once registered,
// unfenced, serving and caught up with the metadata log it still hears
// from; a controller once it leads or follows a known leader and has
// room to append to the metadata log.
func (n *node) Ready() []string {
	var why []string
	if n.http != nil && n.http.stopping.Load() {
		return []string{"shutting down"}
	}
	if n.brk != nil {
		s := n.brk.Standing()
		session := time.Duration(n.static.Int("broker.session.timeout.ms")) * time.Millisecond
		switch {
		case !s.Registered:
			why = append(why, "broker: not registered with the controller")
		case s.Fenced:
			why = append(why, "broker: fenced")
		case !s.Serving:
			why = append(why, "broker: not serving clients yet")
		case s.LastMetadataFetch.IsZero() || time.Since(s.LastMetadataFetch) > session:
			why = append(why, fmt.Sprintf("broker: no metadata from the controller for over %v", session))
		case s.MetadataHighWatermark-1 > s.MetadataOffset:
			why = append(why, fmt.Sprintf("broker: %d metadata records behind", s.MetadataHighWatermark-1-s.MetadataOffset))
		}
	}
	if n.ctrl != nil {
		s, err := n.ctrl.Stats()
		switch {
		case err != nil:
			why = append(why, fmt.Sprintf("controller: loop does not answer: %v", err))
		case !s.InQuorum():
			why = append(why, fmt.Sprintf("controller: no quorum leader known (raft state %s)", s.State))
		}
		// A controller that cannot append refuses every metadata change;
		// the probe says so, as spool_metadata_log_full does.
		if n.ctrl.MetadataLogFull() {
			why = append(why, "controller: the metadata log dir is out of space; metadata changes are refused")
		}
	}
	return why
}

// withHTTPListener adds the HTTP listener's name to the listeners whose
// listener.name.<l>.* keys are accepted, when it is on.
func withHTTPListener(c *config.Config, ls []config.Listener) []config.Listener {
	if c.Get("http.listener") == "" {
		return ls
	}
	return append(append([]config.Listener(nil), ls...), config.Listener{Name: config.HTTPListenerName, SecurityProtocol: c.Get("http.listener.security.protocol")})
}

// scramForHTTP looks basic-auth users up in the broker's image, or the
// controller's on a controller-only node.
func (n *node) scramForHTTP() security.ScramLookup {
	return scramLookup(func() *metadata.Image {
		switch {
		case n.brk != nil:
			return n.brk.Image()
		case n.ctrl != nil:
			return n.ctrl.Image()
		}
		return nil
	})
}
