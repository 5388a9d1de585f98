//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"spool/config"
	"spool/controller"
	"spool/controller/metadata"
	"spool/security"
	"spool/storage"
)

func newStorageCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "storage",
		Short: "Format and inspect log directories",
	}
	cmd.AddCommand(newFormatCmd(), newRandomUUIDCmd(), newStorageInfoCmd())
	return cmd
}

func newRandomUUIDCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "random-uuid",
		Short: "Print a new random cluster id",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), storage.RandomUUID())
			return nil
		},
	}
}

func newFormatCmd() *cobra.Command {
	var flags serverFlags
	var clusterID string
	var ignoreFormatted bool
	var addScram []string
	var quorum quorumFormat
	cmd := &cobra.Command{
		Use:   "format --config FILE --cluster-id ID",
		Short: "Write meta.properties to every log dir of a node",
		Long: `Write meta.properties to every log dir of a node. A controller of a
dynamic quorum (controller.quorum.bootstrap.servers, no
controller.quorum.voters) also needs one of --standalone,
--initial-controllers or --no-initial-controllers, as with kafka-storage.`,
		Example: `  spool storage format --config server.properties --cluster-id $(spool storage random-uuid)
  spool storage format --config server.properties --cluster-id MkU3OEVBNTcwNTJENDM2Qk --ignore-formatted
  spool storage format --config server.properties --cluster-id MkU3OEVBNTcwNTJENDM2Qk --standalone
  spool storage format --config controller4.properties --cluster-id MkU3OEVBNTcwNTJENDM2Qk --no-initial-controllers`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if flags.configFile == "" {
				return usageErrorf("storage format needs --config FILE")
			}
			if clusterID == "" {
				return usageErrorf("storage format needs --cluster-id (make one with `spool storage random-uuid`)")
			}
			if err := storage.ValidClusterID(clusterID); err != nil {
				return usageErrorf("%v", err)
			}
			_, node, _, err := flags.load()
			if err != nil {
				return err
			}
			boot, err := scramBootstrap(addScram, node)
			if err != nil {
				return err
			}
			voters, metaDirID, err := quorum.voters(node)
			if err != nil {
				return err
			}
			for _, dir := range formatDirs(node) {
				mp, err := storage.ReadMetaProperties(dir)
				switch {
				case err == nil && ignoreFormatted:
					fmt.Fprintf(cmd.OutOrStdout(), "%s is already formatted (cluster %s); leaving it\n", dir, mp.ClusterID)
					continue
				case err == nil:
					return usageErrorf("log dir %s is already formatted (cluster.id=%s, node.id=%d); use --ignore-formatted to skip it", dir, mp.ClusterID, mp.NodeID)
				case !errors.Is(err, storage.ErrNotFormatted):
					return err
				}
				if err := formatDir(dir, node, storage.MetaProperties{ClusterID: clusterID, NodeID: node.NodeID, DirectoryID: metaDirID}, boot, voters); err != nil {
					return fmt.Errorf("format %s: %w", dir, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Formatted %s with cluster.id %s and node.id %d\n", dir, clusterID, node.NodeID)
			}
			return nil
		},
	}
	// kafka-storage's short forms: -c, -t, -s, -I, -N.
	cmd.Flags().StringVarP(&flags.configFile, "config", "c", "", "Kafka-style properties file")
	cmd.Flags().StringArrayVar(&flags.overrides, "override", nil, "set a property, key=value (repeatable)")
	flags.nodeID = -1
	cmd.Flags().StringVarP(&clusterID, "cluster-id", "t", "", "cluster id (from `spool storage random-uuid`)")
	cmd.Flags().BoolVar(&ignoreFormatted, "ignore-formatted", false, "skip dirs that are already formatted instead of failing")
	cmd.Flags().BoolVarP(&quorum.standalone, "standalone", "s", false, "dynamic quorum: start a new quorum with this controller as its only voter")
	cmd.Flags().StringVarP(&quorum.initial, "initial-controllers", "I", "", "dynamic quorum: the first voters, as ID@HOST:PORT:DIRECTORY-ID,... (this controller's metadata log dir takes its directory id)")
	cmd.Flags().BoolVarP(&quorum.none, "no-initial-controllers", "N", false, "dynamic quorum: join a running quorum; add this controller with `spool cluster metadata-quorum add-controller`")
	cmd.Flags().StringArrayVar(&addScram, "add-scram", nil, "a SCRAM credential the new cluster starts with, as kafka-storage takes it: 'SCRAM-SHA-512=[name=admin,password=admin-secret]' (repeatable; controllers only)")
	return cmd
}

// formatDir writes meta.properties in dir and, in the metadata log dir,
// the records and voters a new cluster starts with. meta.properties is
// written last: it marks the dir formatted. Only the metadata log dir
// takes meta's directory id; the others get their own.
func formatDir(dir string, node *config.Node, meta storage.MetaProperties, boot []metadata.Record, voters []controller.Member) error {
	if dir != node.MetadataLogDir {
		meta.DirectoryID = ""
		return storage.WriteMetaProperties(dir, meta)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeBootstrap(dir, boot); err != nil {
		return err
	}
	if err := writeInitialVoters(dir, voters); err != nil {
		return err
	}
	return storage.WriteMetaProperties(dir, meta)
}

// formatDirs are the log dirs plus the metadata log dir, without repeats.
func formatDirs(node *config.Node) []string {
	dirs := append([]string(nil), node.LogDirs...)
	for _, d := range dirs {
		if d == node.MetadataLogDir {
			return dirs
		}
	}
	return append(dirs, node.MetadataLogDir)
}

func newStorageInfoCmd() *cobra.Command {
	var flags serverFlags
	cmd := &cobra.Command{
		Use:   "info --config FILE",
		Short: "Show the format state of a node's log dirs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if flags.configFile == "" {
				return usageErrorf("storage info needs --config FILE")
			}
			_, node, _, err := flags.load()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			var problems []string
			for _, dir := range formatDirs(node) {
				mp, err := storage.ReadMetaProperties(dir)
				switch {
				case errors.Is(err, storage.ErrNotFormatted):
					fmt.Fprintf(out, "%s: not formatted\n", dir)
					problems = append(problems, dir+" is not formatted")
				case err != nil:
					fmt.Fprintf(out, "%s: %v\n", dir, err)
					problems = append(problems, err.Error())
				default:
					fmt.Fprintf(out, "%s: cluster.id=%s node.id=%d directory.id=%s\n", dir, mp.ClusterID, mp.NodeID, mp.DirectoryID)
					if mp.NodeID != node.NodeID {
						problems = append(problems, fmt.Sprintf("%s has node.id %d but the config says %d", dir, mp.NodeID, node.NodeID))
					}
				}
			}
			if len(problems) > 0 {
				return &exitError{code: 1, msg: strings.Join(problems, "; ")}
			}
			return nil
		},
	}
	flags.register(cmd, false)
	return cmd
}

// scramBootstrap parses --add-scram values into the records the first
// active controller writes.
func scramBootstrap(specs []string, node *config.Node) ([]metadata.Record, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	if !node.Controller {
		return nil, usageErrorf("--add-scram: only controllers keep the bootstrap records; format the controllers with it")
	}
	var recs []metadata.Record
	for _, s := range specs {
		user, c, err := security.ParseScramSpec(s)
		if err != nil {
			return nil, usageErrorf("--add-scram %v", err)
		}
		recs = append(recs, &metadata.UserScramCredentialRecord{Name: user, Mechanism: c.Mechanism, Salt: c.Salt,
			StoredKey: c.StoredKey, ServerKey: c.ServerKey, Iterations: c.Iterations})
	}
	return recs, nil
}
