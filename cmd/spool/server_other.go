//go:build !linux

package main

import (
	"runtime"

	"github.com/spf13/cobra"
)

// The broker and controller use Linux system calls (sendfile on sockets,
// fdatasync); elsewhere this binary is the admin client only. These stand
// in for `server` and `storage` so that they explain that rather than
// being unknown commands.

func newServerCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "server",
		Short:              "Run a broker, a controller, or both (Linux only)",
		DisableFlagParsing: true,
		RunE:               linuxOnly,
	}
}

func newStorageCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "storage",
		Short:              "Format and inspect log directories (Linux only)",
		DisableFlagParsing: true,
		RunE:               linuxOnly,
	}
}

func linuxOnly(cmd *cobra.Command, _ []string) error {
	return usageErrorf("`spool %s` runs on Linux only; this %s/%s build is the admin client (topic, group, produce, consume, cluster, ...). Run the server on Linux, or in the container image (see deploy/README.md)", cmd.Name(), runtime.GOOS, runtime.GOARCH)
}

// add-controller reads the new controller's own meta.properties, and both
// quorum changes share its Linux-only helpers.
func newQuorumAddCmd(*app) *cobra.Command {
	return &cobra.Command{Use: "add-controller", Short: "Add a controller to the quorum's voters (Linux only)", DisableFlagParsing: true, RunE: linuxOnly}
}

func newQuorumRemoveCmd(*app) *cobra.Command {
	return &cobra.Command{Use: "remove-controller", Short: "Remove a voter from the controller quorum (Linux only)", DisableFlagParsing: true, RunE: linuxOnly}
}
