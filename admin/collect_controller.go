package admin

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"spool/controller"
	"spool/controller/metadata"
)

// controllerCollector exports the controller's raft state and, on the
// active controller, the cluster-wide counts Kafka's controller reports.
type controllerCollector struct{ c *controller.Controller }

var (
	ctrlActive      = gauge("spool_controller_active", "1 on the active controller (Kafka's ActiveControllerCount; sum it over the controllers).")
	ctrlUp          = gauge("spool_controller_loop_responsive", "1 when the controller's raft loop answered the scrape within a second.")
	raftTerm        = gauge("spool_raft_term", "Current raft term (Kafka's current-epoch).")
	raftLeader      = gauge("spool_raft_leader_id", "node.id of the raft leader, -1 when none is known (Kafka's current-leader).")
	raftCommit      = gauge("spool_raft_commit_index", "Raft commit index: the highest metadata offset known committed (Kafka's high-watermark).")
	raftApplied     = gauge("spool_raft_applied_offset", "Offset of the last metadata batch applied to the controller's image.")
	raftApplyLag    = gauge("spool_raft_apply_lag", "Committed metadata entries not yet applied to the controller's image.")
	raftVoterLag    = gauge("spool_raft_voter_lag", "Entries a voter's log is behind the leader's, on the active controller.", "voter")
	raftVoterActive = gauge("spool_raft_voter_recently_active", "1 when the voter answered the leader within the election timeout, on the active controller.", "voter")
	uncleanElect    = counter("spool_controller_unclean_leader_elections_total", "Out-of-sync replicas this node made partition leaders as the active controller (Kafka's UncleanLeaderElectionsPerSec).")
	raftRefused     = counter("spool_raft_messages_refused_total", "Raft messages refused by the sender, entry and lease checks.")
	metaLogFull     = gauge("spool_metadata_log_full", "1 while the metadata log dir is out of space: metadata changes are refused until space is freed.")
	ctrlBrokers     = gauge("spool_controller_brokers", "Registered brokers by state, on the active controller (Kafka's ActiveBrokerCount and FencedBrokerCount).", "state")
	ctrlTopics      = gauge("spool_controller_topics", "Topics in the cluster, on the active controller (Kafka's GlobalTopicCount).")
	ctrlPartitions  = gauge("spool_controller_partitions", "Partitions in the cluster, on the active controller (Kafka's GlobalPartitionCount).")
	ctrlOffline     = gauge("spool_controller_offline_partitions", "Partitions without a leader, on the active controller (Kafka's OfflinePartitionsCount).")
	ctrlLeaderless  = gauge("spool_controller_leader_unavailable_partitions", "Partitions whose leader is fenced or unregistered, on the active controller: no leader clients can reach.")
	ctrlURP         = gauge("spool_controller_under_replicated_partitions", "Partitions whose ISR is smaller than their replica set, cluster-wide, on the active controller.")
	ctrlImbalance   = gauge("spool_controller_preferred_replica_imbalance", "Partitions not led by their preferred replica, on the active controller (Kafka's PreferredReplicaImbalanceCount).")
)

var controllerFamilies = []family{
	ctrlActive, ctrlUp, metaLogFull, uncleanElect, raftTerm, raftLeader, raftCommit, raftApplied, raftApplyLag, raftVoterLag, raftVoterActive, raftRefused,
	ctrlBrokers, ctrlTopics, ctrlPartitions, ctrlOffline, ctrlLeaderless, ctrlURP, ctrlImbalance,
}

func (c *controllerCollector) Describe(ch chan<- *prometheus.Desc) { describe(ch, controllerFamilies) }

func (c *controllerCollector) Collect(ch chan<- prometheus.Metric) {
	s, err := c.c.Stats()
	ctrlUp.emit(ch, boolValue(err == nil))
	raftLeader.emit(ch, float64(s.LeaderID))
	raftApplied.emit(ch, float64(s.AppliedOffset))
	raftRefused.emit(ch, float64(s.RaftRefused))
	uncleanElect.emit(ch, float64(c.c.UncleanElections()))
	metaLogFull.emit(ch, boolValue(c.c.MetadataLogFull()))
	if err != nil {
		return
	}
	ctrlActive.emit(ch, boolValue(s.Active))
	raftTerm.emit(ch, float64(s.Term))
	raftCommit.emit(ch, float64(s.CommitIndex))
	raftApplyLag.emit(ch, float64(max(int64(s.CommitIndex)-s.AppliedOffset, 0)))
	if !s.Active {
		return
	}
	for _, v := range s.Voters {
		id := strconv.Itoa(int(v.ID))
		raftVoterLag.emit(ch, float64(v.Lag), id)
		raftVoterActive.emit(ch, boolValue(v.RecentActive), id)
	}
	collectCluster(ch, c.c.Image())
}

// collectCluster counts brokers and partitions in the image.
func collectCluster(ch chan<- prometheus.Metric, img *metadata.Image) {
	var active, fenced float64
	for _, b := range img.Brokers {
		if b.Fenced {
			fenced++
		} else {
			active++
		}
	}
	ctrlBrokers.emit(ch, active, "active")
	ctrlBrokers.emit(ch, fenced, "fenced")
	var partitions, offline, unavailable, urp, imbalance float64
	img.Topics.Range(func(t *metadata.Topic) bool {
		for _, p := range t.Partitions {
			partitions++
			switch b := img.Brokers[p.Leader]; {
			case p.Leader < 0:
				offline++
			case b == nil || b.Fenced:
				unavailable++
			}
			if len(p.ISR) < len(p.Replicas) {
				urp++
			}
			if len(p.Replicas) > 0 && p.Leader != p.Replicas[0] {
				imbalance++
			}
		}
		return true
	})
	ctrlTopics.emit(ch, float64(img.Topics.Len()))
	ctrlPartitions.emit(ch, partitions)
	ctrlOffline.emit(ch, offline)
	ctrlLeaderless.emit(ch, unavailable)
	ctrlURP.emit(ch, urp)
	ctrlImbalance.emit(ch, imbalance)
}
