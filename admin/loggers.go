package admin

import (
	"encoding/json"
	"net/http"

	"go.uber.org/zap"
)

// LevelSetter reads and changes log levels by logger name ("" is the
// root: every logger without a level of its own).
type LevelSetter interface {
	Levels() map[string]string
	SetLevel(name, level string) error
}

// getLoggers answers every logger level set, as JSON.
func (s *Server) getLoggers(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(s.levels.Levels())
}

// putLogger sets a logger's level: PUT /v1/loggers/controller.raft?level=debug
// ("root" names the root logger; level=default drops a logger's own level).
func (s *Server) putLogger(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if name == "root" {
		name = ""
	}
	level := r.URL.Query().Get("level")
	if err := s.levels.SetLevel(name, level); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.log.Info("log level changed", zap.String("logger", r.PathValue("name")), zap.String("level", level), zap.String("remote", r.RemoteAddr))
	s.getLoggers(w, r)
}
