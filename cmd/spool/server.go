//go:build linux

package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
)

func newServerCmd() *cobra.Command {
	var flags serverFlags
	var clusterID, logFormat, logLevel string
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run a broker, a controller, or both",
		Long: `Run a Spool node. With no --config it is a ready single-node cluster:
broker and controller in one process, PLAINTEXT on localhost:9092, CONTROLLER
on localhost:9093, data in ./spool-data, formatted on first start.

With --config, unformatted log dirs are formatted only when --cluster-id is
given; otherwise run ` + "`spool storage format`" + ` first.`,
		Example: `  spool server
  spool server --config server.properties --override log.retention.hours=24
  spool server --config node1.properties --cluster-id $(spool storage random-uuid)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(logFormat, logLevel)
			if err != nil {
				return err
			}
			defer log.Sync()
			static, node, unknown, err := flags.load()
			if err != nil {
				return err
			}
			for _, k := range unknown {
				log.Warn("unknown configuration key; ignoring it", zap.String("key", k))
			}
			dbg, err := listenDebug(flags.debugListener)
			if err != nil {
				return err
			}
			n, err := prepareNode(static, node, flags.devMode(), clusterID, log)
			if err != nil {
				if dbg != nil {
					dbg.Close()
				}
				return err
			}
			logBanner(log, n)
			if err := n.start(); err != nil {
				n.stop(context.Background())
				return err
			}
			stopDebug := serveDebug(dbg, n, log)
			defer stopDebug()
			sigs := make(chan os.Signal, 1)
			signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
			select {
			case s := <-sigs:
				log.Info("shutting down", zap.Stringer("signal", s))
			case err := <-n.failed:
				log.Error("node failed", zap.Error(err))
				n.stop(context.Background())
				return err
			}
			signal.Stop(sigs)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			n.stop(ctx)
			log.Info("stopped")
			return nil
		},
	}
	flags.register(cmd, true)
	cmd.Flags().StringVar(&clusterID, "cluster-id", "", "format unformatted log dirs with this cluster id")
	cmd.Flags().StringVar(&logFormat, "log-format", "console", "log format: console or json")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "log level (debug, info, warn, error), optionally followed by logger=level pairs, e.g. info,request=debug")
	return cmd
}
