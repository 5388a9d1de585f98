package admin

import (
	"log"

	"go.uber.org/zap"
)

// zapErrorLog hands promhttp's gathering errors to the logger.
type zapErrorLog struct{ log *zap.Logger }

func (z zapErrorLog) Println(v ...any) { z.log.Sugar().Warn(v...) }

// zapStdLog is net/http's error log (TLS handshake failures, bad requests)
// at DEBUG: a port scanner must not fill the log.
func zapStdLog(l *zap.Logger) *log.Logger {
	std, err := zap.NewStdLogAt(l, zap.DebugLevel)
	if err != nil {
		return nil
	}
	return std
}
