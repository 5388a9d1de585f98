// Command spool is a Kafka-compatible streaming broker with an embedded
// KRaft-style controller, and the admin tool to run and manage it.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code through cobra.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// usageErrorf is a configuration or usage problem: exit code 2.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: 2, msg: fmt.Sprintf(format, args...)}
}

func main() {
	root := newRootCmd()
	if err := root.Execute(); err != nil {
		var ee *exitError
		code := 1
		if errors.As(err, &ee) {
			code = ee.code
		}
		if err.Error() != "" {
			fmt.Fprintln(os.Stderr, "spool:", err)
		}
		os.Exit(code)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "spool",
		Short:         "A Kafka-compatible streaming broker in one binary",
		Long:          "Spool is a Kafka-compatible broker with an embedded KRaft controller.\nRun `spool server` to start a single-node cluster on localhost:9092.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServerCmd(), newStorageCmd())
	return root
}
