package admin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"spool/security"
)

// Server is the operator HTTP listener.
type Server struct {
	settings Settings
	log      *zap.Logger
	registry *prometheus.Registry
	health   Health
	levels   LevelSetter
	basic    *basicAuth
	srv      *http.Server
	ln       net.Listener
}

// Options are what the listener serves.
type Options struct {
	Settings Settings
	Logger   *zap.Logger
	// Registry holds every metric the process exports (NewRegistry).
	Registry *prometheus.Registry
	Health   Health
	// Levels reads and changes log levels (/v1/loggers); nil leaves the
	// endpoint out.
	Levels LevelSetter
	// Console serves the web console's pages at / and its JSON API under
	// /v1/; nil leaves them out.
	Console http.Handler
	// Scram looks up the SCRAM credentials basic auth checks passwords
	// against.
	Scram security.ScramLookup
}

// Listen binds the listener now, so a port in use is a start-up error
// reported with the others.
func Listen(s Settings) (net.Listener, error) {
	if !s.Enabled() {
		return nil, nil
	}
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return nil, fmt.Errorf("http.listener: cannot listen on %s: %w", s.Addr, err)
	}
	return ln, nil
}

// NewServer prepares the server; Serve starts it.
func NewServer(o Options) *Server {
	s := &Server{settings: o.Settings, log: o.Logger.Named("http"), registry: o.Registry, health: o.Health, levels: o.Levels}
	if o.Settings.Auth == AuthBasic {
		s.basic = newBasicAuth(o.Scram)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	metrics := promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{ErrorLog: zapErrorLog{s.log}, ErrorHandling: promhttp.ContinueOnError})
	mux.Handle("GET /metrics", s.authenticated(metrics))
	if o.Levels != nil {
		mux.Handle("GET /v1/loggers", s.authenticated(http.HandlerFunc(s.getLoggers)))
		mux.Handle("PUT /v1/loggers/{name}", s.authenticated(http.HandlerFunc(s.putLogger)))
	}
	if o.Console != nil {
		// The least specific pattern: every path not served above.
		mux.Handle("/", s.authenticated(o.Console))
	}
	s.srv = &http.Server{
		Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
		ErrorLog: zapStdLog(s.log),
	}
	return s
}

// Serve serves ln in the background until Shutdown.
func (s *Server) Serve(ln net.Listener) {
	if ln == nil {
		return
	}
	s.ln = ln
	if s.settings.TLS != nil {
		ln = tls.NewListener(ln, s.settings.TLS)
	}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http listener stopped", zap.Error(err))
		}
	}()
	scheme := "http"
	if s.settings.TLS != nil {
		scheme = "https"
	}
	s.log.Info("serving operator endpoints", zap.String("url", scheme+"://"+ln.Addr().String()), zap.String("authentication", string(s.settings.Auth)))
}

// Shutdown stops accepting and waits for requests in flight, up to ctx.
func (s *Server) Shutdown(ctx context.Context) {
	if s.ln == nil {
		return
	}
	if err := s.srv.Shutdown(ctx); err != nil {
		s.srv.Close()
	}
}
