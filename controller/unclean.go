package controller

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"spool/config"
	"spool/controller/metadata"
)

// uncleanKey is the broker and topic config that lets an out-of-sync
// replica lead a partition whose in-sync replicas are all gone.
const uncleanKey = "unclean.leader.election.enable"

// uncleanCheckInterval is how often the active controller looks for
// leaderless partitions even when nothing it watches has changed, as
// Kafka's controller does every five minutes.
const uncleanCheckInterval = 5 * time.Minute

// uncleanEnabled resolves unclean.leader.election.enable for a topic the
// way the controller's own config sees it: the topic's setting, then this
// node's and the cluster's dynamic broker configs, then the static file.
func uncleanEnabled(img *metadata.Image, static *config.Config, nodeID int32, topic string) bool {
	layers := config.Layers{
		Static:        static,
		DynamicBroker: img.Configs[metadata.ConfigResource{Type: metadata.ConfigResourceBroker, Name: strconv.Itoa(int(nodeID))}],
		DynamicAll:    img.Configs[metadata.ConfigResource{Type: metadata.ConfigResourceBroker}],
	}
	v, _ := layers.Topic(img.TopicConfig(topic), uncleanKey)
	return strings.EqualFold(v, "true")
}

// leaderlessElections elects a leader for every leaderless partition that
// can have one: an unfenced in-sync replica if there is one (a clean
// election), else, where the topic allows it, the first live replica in
// assignment order, which becomes the whole ISR. The second kind may lose
// records acknowledged only by the lost in-sync replicas; each is logged
// and counted by the caller from the returned elections.
func leaderlessElections(img *metadata.Image, unclean func(topic string) bool) (recs []metadata.Record, uncleans []uncleanElection) {
	usable := func(r int32) bool {
		b := img.Brokers[r]
		return b != nil && !b.Fenced && !b.InControlledShutdown
	}
	img.Topics.Range(func(t *metadata.Topic) bool {
		var allowed, asked bool
		for _, p := range t.Partitions {
			if p.Leader != metadata.NoLeader {
				continue
			}
			pc := metadata.NewPartitionChangeRecord(t.ID, p.ID)
			if i := slices.IndexFunc(p.ISR, usable); i >= 0 {
				pc.Leader = p.ISR[i]
				recs = append(recs, pc)
				continue
			}
			if !asked {
				allowed, asked = unclean(t.Name), true
			}
			if !allowed {
				continue
			}
			if i := slices.IndexFunc(p.Replicas, usable); i >= 0 {
				pc.Leader, pc.ISR = p.Replicas[i], []int32{p.Replicas[i]}
				recs = append(recs, pc)
				uncleans = append(uncleans, uncleanElection{t.Name, p.ID, p.Replicas[i], slices.Clone(p.ISR)})
			}
		}
		return true
	})
	return recs, uncleans
}

// uncleanElection is one out-of-sync replica made leader.
type uncleanElection struct {
	topic     string
	partition int32
	leader    int32
	lostISR   []int32 // the in-sync replicas it replaces
}

func (u uncleanElection) warn(log *zap.Logger, how string) {
	log.Warn("unclean leader election: an out-of-sync replica now leads the partition; records acknowledged only by the lost in-sync replicas may be lost",
		zap.String("topic", u.topic), zap.Int32("partition", u.partition), zap.Int32("leader", u.leader),
		zap.Int32s("lost_isr", u.lostISR), zap.String("trigger", how))
}

// uncleanTrigger reports whether a committed record may leave a partition
// that an election could now fix: a broker coming or going, a config
// change, or a partition losing its leader.
func uncleanTrigger(r metadata.Record) bool {
	switch r := r.(type) {
	case *metadata.BrokerRegistrationChangeRecord, *metadata.RegisterBrokerRecord,
		*metadata.UnfenceBrokerRecord, *metadata.FenceBrokerRecord, *metadata.UnregisterBrokerRecord:
		return true
	case *metadata.ConfigRecord:
		return r.Name == uncleanKey
	case *metadata.PartitionChangeRecord:
		return r.Leader == metadata.NoLeader
	}
	return false
}

// electLeaderless runs leaderlessElections on the speculative image when a
// trigger was seen or the periodic check is due; loop only.
func (c *Controller) electLeaderless(now time.Time) {
	if !c.leaderlessCheck && now.Before(c.nextUncleanCheck) {
		return
	}
	c.leaderlessCheck = false
	c.nextUncleanCheck = now.Add(uncleanCheckInterval)
	recs, uncleans := leaderlessElections(c.spec, func(topic string) bool {
		return uncleanEnabled(c.spec, c.cfg.Static, c.cfg.NodeID, topic)
	})
	if len(recs) == 0 {
		return
	}
	for _, u := range uncleans {
		u.warn(c.log, uncleanKey)
	}
	c.uncleanElections.Add(int64(len(uncleans)))
	c.propose(recs, func(error) {})
}

// UncleanElections counts the unclean leader elections this node made as
// the active controller (automatic ones and ElectLeaders with type 1).
func (c *Controller) UncleanElections() int64 { return c.uncleanElections.Load() }
