//go:build linux

package main

import (
	"fmt"
	"os"

	"go.uber.org/zap"

	"spool/logging"
)

// newLogger builds the process logger: readable console lines by default,
// JSON with --log-format json; --log-level is a root level optionally
// followed by logger=level pairs (info,request=debug), changeable at run
// time through the HTTP listener's /v1/loggers.
func newLogger(format, level string) (*zap.Logger, error) {
	log, _, err := logging.New(os.Stderr, format, level)
	if err != nil {
		if format != "console" && format != "text" && format != "json" && format != "" {
			return nil, usageErrorf("--log-format %q: expected console or json", format)
		}
		return nil, usageErrorf("--log-level %q: %v", level, err)
	}
	return log, nil
}

// logProblems prints config problems one per line.
func problemsError(what string, lines []string) error {
	msg := fmt.Sprintf("%s:", what)
	for _, l := range lines {
		msg += "\n  " + l
	}
	return usageErrorf("%s", msg)
}
