package admin

import (
	"fmt"
	"net/http"
	"strings"
)

// Health answers the probes.
type Health interface {
	// Live is nil while the process is alive and its loops answer.
	Live() error
	// Ready lists why the node should not get traffic yet; none means
	// ready.
	Ready() []string
}

// healthz is the liveness probe: the process runs and answers.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.health.Live(); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not alive: %v\n", err)
		return
	}
	fmt.Fprintln(w, "ok")
}

// readyz is the readiness probe: 200 once the node should get traffic,
// 503 with the reasons, one a line, until then.
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if reasons := s.health.Ready(); len(reasons) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready:\n%s\n", strings.Join(reasons, "\n"))
		return
	}
	fmt.Fprintln(w, "ready")
}
