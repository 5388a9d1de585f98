//go:build linux

package main

import (
	"fmt"
	"os"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// newLogger builds the process logger: readable console lines by default,
// JSON with --log-format json.
func newLogger(format, level string) (*zap.Logger, error) {
	var lvl zapcore.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, usageErrorf("--log-level %q: %v", level, err)
	}
	var enc zapcore.Encoder
	switch format {
	case "console", "text", "":
		ec := zap.NewDevelopmentEncoderConfig()
		ec.EncodeTime = zapcore.ISO8601TimeEncoder
		ec.EncodeLevel = zapcore.CapitalLevelEncoder
		enc = zapcore.NewConsoleEncoder(ec)
	case "json":
		ec := zap.NewProductionEncoderConfig()
		ec.EncodeTime = zapcore.ISO8601TimeEncoder
		enc = zapcore.NewJSONEncoder(ec)
	default:
		return nil, usageErrorf("--log-format %q: expected console or json", format)
	}
	core := zapcore.NewCore(enc, zapcore.Lock(os.Stderr), lvl)
	return zap.New(core), nil
}

// logProblems prints config problems one per line.
func problemsError(what string, lines []string) error {
	msg := fmt.Sprintf("%s:", what)
	for _, l := range lines {
		msg += "\n  " + l
	}
	return usageErrorf("%s", msg)
}
