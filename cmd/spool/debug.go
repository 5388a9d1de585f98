//go:build linux

package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"spool/protocol"
)

// The debug listener serves net/http/pprof and the node's counters. It is
// off unless --debug-listener is given, and never shares a Kafka listener:
// profiles expose internals and cost CPU, so an operator opts in and binds
// it where only they can reach it (127.0.0.1 by convention).

// listenDebug binds the debug listener now, so a port in use is reported
// with the other start-up problems. An empty address means off.
func listenDebug(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, usageErrorf("--debug-listener: cannot listen on %s: %v", addr, causeOf(err))
	}
	return ln, nil
}

// serveDebug serves ln until the returned stop is called.
func serveDebug(ln net.Listener, n *node, log *zap.Logger) (stop func()) {
	if ln == nil {
		return func() {}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/vars", func(w http.ResponseWriter, _ *http.Request) { writeVars(w, n) })
	mux.Handle("/metrics", promhttp.HandlerFor(n.metricsRegistry(), promhttp.HandlerOpts{}))
	// No write timeout: a CPU profile holds its response open for as many
	// seconds as it was asked for.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			log.Warn("debug listener stopped", zap.Error(err))
		}
	}()
	log.Info("serving debug endpoints", zap.Stringer("addr", ln.Addr()))
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}
}

// netStats lists the response-byte counters of each server the node runs.
func (n *node) netStats() []namedStats {
	var out []namedStats
	if n.brkServer != nil && n.brkServer.Stats != nil {
		out = append(out, namedStats{"broker", n.brkServer.Stats, n.brkServer.Connections})
	}
	if n.ctrlServer != nil && n.ctrlServer.Stats != nil {
		out = append(out, namedStats{"controller", n.ctrlServer.Stats, n.ctrlServer.Connections})
	}
	return out
}

type namedStats struct {
	server string
	stats  *protocol.Stats
	conns  func() map[string]int // open connections per listener
}

// writeVars answers in expvar's shape (one JSON object of named values),
// with the process id so a tool can read the rest from /proc.
func writeVars(w http.ResponseWriter, n *node) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	vars := map[string]any{
		"pid":        os.Getpid(),
		"cmdline":    os.Args,
		"goroutines": runtime.NumGoroutine(),
		"memstats": map[string]uint64{
			"HeapAlloc": ms.HeapAlloc, "HeapSys": ms.HeapSys, "Sys": ms.Sys,
			"Mallocs": ms.Mallocs, "Frees": ms.Frees, "NumGC": uint64(ms.NumGC),
			"PauseTotalNs": ms.PauseTotalNs,
		},
	}
	for _, s := range n.netStats() {
		vars[s.server+"_response_bytes"] = map[string]int64{
			"sendfile": s.stats.SendfileBytes.Load(),
			"copied":   s.stats.CopiedBytes.Load(),
			"written":  s.stats.WrittenBytes.Load(),
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(vars)
}
