//go:build linux

package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller"
	"spool/protocol"
	"spool/storage"
)

// add-controller and remove-controller change a dynamic controller
// quorum's voters (KIP-853), as kafka-metadata-quorum's commands of the
// same names do. Through --bootstrap-server a broker forwards the request
// to the active controller; with --bootstrap-controller the CLI finds the
// active controller itself.

func newQuorumAddCmd(a *app) *cobra.Command {
	var flags serverFlags
	var ctrl string
	cmd := &cobra.Command{
		Use:   "add-controller --config FILE",
		Short: "Add a running controller (formatted with --no-initial-controllers) to the quorum's voters",
		Long: `Add the controller whose properties file is --config to the voters of a
dynamic controller quorum. The controller must be running: it catches up
as a learner first and is promoted once its log has reached the commit
index. Its node id, controller listeners and the directory id of its
metadata log dir are read from the file and the dir, as
kafka-metadata-quorum add-controller --command-config does.`,
		Example: `  spool cluster metadata-quorum add-controller --config controller4.properties --bootstrap-controller localhost:9093
  spool cluster metadata-quorum add-controller --config controller4.properties --bootstrap-server localhost:9092`,
		Args: cobra.NoArgs,
	}
	a.client(cmd, clientCmd{
		bootstrap: controllerSeed(&ctrl, a),
		check: func([]string) error {
			if flags.configFile == "" {
				return usageErrorf("add-controller needs --config FILE (the new controller's properties)")
			}
			return nil
		},
		run: func(s *session, _ []string) error {
			_, node, _, err := flags.load()
			if err != nil {
				return err
			}
			if !node.Controller {
				return usageErrorf("%s: node %d has no controller role", flags.configFile, node.NodeID)
			}
			mp, err := storage.ReadMetaProperties(node.MetadataLogDir)
			if err != nil {
				return usageErrorf("read the new controller's metadata log dir: %v (format it with spool storage format --no-initial-controllers)", err)
			}
			self := selfMember(node, mp.DirectoryID)
			req := kmsg.NewPtrAddRaftVoterRequest()
			req.ClusterID = &mp.ClusterID
			// The controller gives up (and removes the learner again) a
			// little before --timeout, so its answer still arrives.
			req.TimeoutMillis = int32(max(s.timeout-2*time.Second, time.Second) / time.Millisecond)
			req.VoterID, req.VoterDirectoryID = self.ID, self.DirID()
			for _, e := range self.Endpoints {
				l := kmsg.NewAddRaftVoterRequestListener()
				l.Name, l.Host, l.Port = e.Name, e.Host, uint16(e.Port)
				req.Listeners = append(req.Listeners, l)
			}
			raw, err := quorumRequest(s, ctrl, req)
			if err != nil {
				return err
			}
			resp := raw.(*kmsg.AddRaftVoterResponse)
			if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
				return fmt.Errorf("add controller %d: %w", self.ID, kafkaError(err, deref(resp.ErrorMessage)))
			}
			fmt.Fprintf(s.out.w, "Added controller %d with directory id %s as a voter\n", self.ID, mp.DirectoryID)
			return nil
		},
	})
	flags.register(cmd, false)
	cmd.Flags().StringVar(&ctrl, "bootstrap-controller", "", "a controller listener's HOST:PORT (instead of --bootstrap-server)")
	return cmd
}

func newQuorumRemoveCmd(a *app) *cobra.Command {
	var ctrl, dirID string
	var id int
	cmd := &cobra.Command{
		Use:   "remove-controller --controller-id ID [--controller-directory-id ID]",
		Short: "Remove a voter from the controller quorum",
		Long: `Remove a voter from a dynamic controller quorum. The controller may be
running or gone. A removal that would leave the remaining voters without
a reachable majority is refused. --controller-directory-id, when given,
must match the voter's metadata log dir.`,
		Example: `  spool cluster metadata-quorum remove-controller --controller-id 1 --bootstrap-controller localhost:9095
  spool cluster metadata-quorum remove-controller --controller-id 1 --controller-directory-id pbvuBlaTTwKRxS5NLJwRFQ`,
		Args: cobra.NoArgs,
	}
	a.client(cmd, clientCmd{
		bootstrap: controllerSeed(&ctrl, a),
		check: func([]string) error {
			if id < 0 {
				return usageErrorf("remove-controller needs --controller-id ID")
			}
			if dirID != "" && storage.ValidClusterID(dirID) != nil {
				return usageErrorf("--controller-directory-id %q is not a 22-character base64url uuid", dirID)
			}
			return nil
		},
		run: func(s *session, _ []string) error {
			req := kmsg.NewPtrRemoveRaftVoterRequest()
			req.VoterID, req.VoterDirectoryID = int32(id), controller.DirIDBytes(dirID)
			raw, err := quorumRequest(s, ctrl, req)
			if err != nil {
				return err
			}
			resp := raw.(*kmsg.RemoveRaftVoterResponse)
			if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
				return fmt.Errorf("remove controller %d: %w", id, kafkaError(err, deref(resp.ErrorMessage)))
			}
			fmt.Fprintf(s.out.w, "Removed controller %d from the voters\n", id)
			return nil
		},
	})
	cmd.Flags().IntVar(&id, "controller-id", -1, "the voter's node id")
	cmd.Flags().StringVar(&dirID, "controller-directory-id", "", "the voter's metadata log directory id (checked when given)")
	cmd.Flags().StringVar(&ctrl, "bootstrap-controller", "", "a controller listener's HOST:PORT (instead of --bootstrap-server)")
	return cmd
}

// controllerSeed connects to --bootstrap-controller when given, else to
// --bootstrap-server.
func controllerSeed(ctrl *string, a *app) func() (string, error) {
	return func() (string, error) {
		if *ctrl != "" {
			return *ctrl, nil
		}
		return a.bootstrap, nil
	}
}

// quorumRequest sends req through a broker (which forwards it) or, with a
// controller address, to the active controller, found by asking that
// controller to describe the quorum's controllers.
func quorumRequest(s *session, ctrl string, req kmsg.Request) (kmsg.Response, error) {
	if ctrl == "" {
		return s.cl.Request(s.ctx, req)
	}
	for {
		addr, err := activeControllerAddr(s, ctrl)
		if err == nil {
			cl := protocol.NewClientDial(addr, "spool-cli", s.dial)
			resp, rerr := cl.Request(s.ctx, req)
			cl.Close()
			if rerr == nil && !notControllerAnswer(resp) {
				return resp, nil
			}
			err = rerr
		}
		select {
		case <-s.ctx.Done():
			if err == nil {
				err = kerr.NotController
			}
			return nil, fmt.Errorf("no active controller through %s: %w", ctrl, err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func notControllerAnswer(resp kmsg.Response) bool {
	switch r := resp.(type) {
	case *kmsg.AddRaftVoterResponse:
		return r.ErrorCode == kerr.NotController.Code
	case *kmsg.RemoveRaftVoterResponse:
		return r.ErrorCode == kerr.NotController.Code
	}
	return false
}

// activeControllerAddr asks the controller at ctrl which controller is
// active and where it listens (DescribeCluster for controllers, KIP-919).
func activeControllerAddr(s *session, ctrl string) (string, error) {
	cl := protocol.NewClientDial(ctrl, "spool-cli", s.dial)
	defer cl.Close()
	req := kmsg.NewPtrDescribeClusterRequest()
	req.SetVersion(1)
	req.EndpointType = 2
	raw, err := cl.Request(s.ctx, req)
	if err != nil {
		return "", err
	}
	resp := raw.(*kmsg.DescribeClusterResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return "", kafkaError(err, deref(resp.ErrorMessage))
	}
	for _, b := range resp.Brokers {
		if b.NodeID == resp.ControllerID {
			return net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port))), nil
		}
	}
	return "", errors.New("no controller is active (the quorum may be electing, or without a majority)")
}
