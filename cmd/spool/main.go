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
	os.Exit(execute(newRootCmd(), os.Args[1:]))
}

// execute runs the command line and returns the process exit code: 0 on
// success, 1 when the operation failed, 2 for a usage or configuration
// problem.
func execute(root *cobra.Command, args []string) int {
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee *exitError
	code := 1
	if errors.As(err, &ee) {
		code = ee.code
	}
	if err.Error() != "" {
		fmt.Fprintln(root.ErrOrStderr(), "spool:", err)
	}
	return code
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "spool",
		Short: "A Kafka-compatible streaming broker in one binary",
		Long:  "Spool is a Kafka-compatible broker with an embedded KRaft controller.\nRun `spool server` to start a single-node cluster on localhost:9092.",
		Example: `  spool server                                   # a single-node cluster on localhost:9092
  spool topic create orders --partitions 3
  echo hello | spool produce orders
  spool consume orders --from-beginning --exit-at-end
  spool cluster health
  spool group describe billing`,
		Version:       buildInfo().short(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("spool {{.Version}}\n")
	a := &app{}
	root.PersistentFlags().StringVar(&a.bootstrap, "bootstrap-server", bootstrapDefault(), "comma-separated host:port of brokers to connect to (env SPOOL_BOOTSTRAP_SERVERS)")
	root.PersistentFlags().StringVar(&a.format, "format", "text", "output format: text or json (consume also takes a Go template)")
	root.AddCommand(newServerCmd(), newStorageCmd(),
		newTopicCmd(a), newConfigCmd(a), newGroupCmd(a), newProduceCmd(a), newConsumeCmd(a),
		newClusterCmd(a), newFeaturesCmd(a), newUserCmd(a), newACLCmd(a), newQuotaCmd(a), newDumpLogCmd(a), newCompletionCmd(), newVersionCmd(a))
	strictUsage(root)
	return root
}
