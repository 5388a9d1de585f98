package main

import (
	"fmt"
	"slices"
	"spool/controller/metadata"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// healthReport is `spool cluster health`, modelled on rpk cluster health.
type healthReport struct {
	Healthy         bool     `json:"healthy"`
	Reasons         []string `json:"unhealthy_reasons"`
	ClusterID       string   `json:"cluster_id"`
	Controller      int32    `json:"controller_id"`
	Brokers         []int32  `json:"brokers"`
	Fenced          []int32  `json:"fenced_brokers"`
	Offline         []int32  `json:"offline_brokers"`
	Leaderless      []string `json:"leaderless_partitions"`
	UnderReplicated []string `json:"under_replicated_partitions"`
}

func newClusterHealthCmd(a *app) *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Check brokers, fenced brokers, leaderless and under-replicated partitions, and the controller",
		Long: `Check the cluster as a whole: which brokers are registered, which are fenced
(registered but not serving: no heartbeats, or still catching up), which
brokers that partitions name as replicas are not registered at all, which
partitions have no leader and which have fewer in-sync replicas than
replicas, and which node is the active controller.

Exits 0 when the cluster is healthy and 1 when it is not, so scripts can
gate on it. --wait checks again every half second until the cluster is
healthy or --timeout passes (then the last check is printed).`,
		Example: `  spool cluster health
  spool cluster health --wait --timeout 2m
  spool cluster health --format json`,
		Args: cobra.NoArgs,
	}
	a.client(cmd, clientCmd{run: func(s *session, _ []string) error {
		// Stop waiting a little before --timeout, to print the last check.
		giveUp := time.Now().Add(s.timeout * 9 / 10)
		for {
			h, err := checkHealth(s)
			if err != nil {
				return err
			}
			if !h.Healthy && wait && time.Now().Add(500*time.Millisecond).Before(giveUp) {
				select {
				case <-time.After(500 * time.Millisecond):
					continue
				case <-s.ctx.Done():
				}
			}
			if err := show(s, h, func(p *printer) { printHealth(p, h) }); err != nil {
				return err
			}
			if !h.Healthy {
				return &exitError{code: 1, msg: "the cluster is unhealthy: " + strings.Join(h.Reasons, ", ")}
			}
			return nil
		}
	}})
	cmd.Flags().BoolVar(&wait, "wait", false, "check again until the cluster is healthy or --timeout passes")
	return cmd
}

// checkHealth asks for the registered brokers (fenced ones included,
// DescribeCluster v2) and every partition's leader and replicas.
func checkHealth(s *session) (healthReport, error) {
	h := healthReport{Reasons: []string{}, Brokers: []int32{}, Fenced: []int32{}, Offline: []int32{}, Leaderless: []string{}, UnderReplicated: []string{}}
	req := kmsg.NewPtrDescribeClusterRequest()
	req.IncludeFencedBrokers = true
	dc, err := req.RequestWith(s.ctx, s.cl)
	if err != nil {
		return h, err
	}
	if err := kerr.ErrorForCode(dc.ErrorCode); err != nil {
		return h, fmt.Errorf("describe cluster: %w", kafkaError(err, deref(dc.ErrorMessage)))
	}
	h.ClusterID, h.Controller = dc.ClusterID, dc.ControllerID
	registered := map[int32]bool{}
	for _, b := range dc.Brokers {
		registered[b.NodeID] = true
		h.Brokers = append(h.Brokers, b.NodeID)
		if b.IsFenced {
			h.Fenced = append(h.Fenced, b.NodeID)
		}
	}
	m, err := s.adm.Metadata(s.ctx)
	if err != nil {
		return h, err
	}
	for _, t := range m.Topics.Sorted() {
		for _, p := range t.Partitions.Sorted() {
			name := fmt.Sprintf("%s-%d", t.Topic, p.Partition)
			if p.Leader < 0 {
				h.Leaderless = append(h.Leaderless, name)
			}
			if len(p.ISR) < len(p.Replicas) {
				h.UnderReplicated = append(h.UnderReplicated, name)
			}
			for _, r := range p.Replicas {
				if !registered[r] && !slices.Contains(h.Offline, r) {
					h.Offline = append(h.Offline, r)
				}
			}
		}
	}
	slices.Sort(h.Brokers)
	slices.Sort(h.Fenced)
	slices.Sort(h.Offline)
	h.judge()
	return h, nil
}

func (h *healthReport) judge() {
	h.Reasons = metadata.HealthReasons(h.Controller >= 0, len(h.Fenced), len(h.Offline), len(h.Leaderless), len(h.UnderReplicated))
	h.Healthy = len(h.Reasons) == 0
}

func printHealth(p *printer, h healthReport) {
	healthy := "yes"
	if !h.Healthy {
		healthy = "no"
	}
	p.pairs("Healthy", healthy,
		"Unhealthy reasons", orDash(strings.Join(h.Reasons, ", ")),
		"Cluster ID", h.ClusterID,
		"Controller", leaderText(h.Controller),
		"Brokers", idList(h.Brokers),
		"Fenced brokers", idList(h.Fenced),
		"Offline brokers", idList(h.Offline),
		fmt.Sprintf("Leaderless partitions (%d)", len(h.Leaderless)), someOf(h.Leaderless),
		fmt.Sprintf("Under-replicated partitions (%d)", len(h.UnderReplicated)), someOf(h.UnderReplicated))
}

func idList(ids []int32) string { return "[" + strings.ReplaceAll(ints(ids), ",", " ") + "]" }

// someOf lists at most five names, so the line fits the screen; --format
// json lists them all.
func someOf(names []string) string {
	if len(names) <= 5 {
		return orDash(strings.Join(names, " "))
	}
	return strings.Join(names[:5], " ") + fmt.Sprintf(" and %d more", len(names)-5)
}
