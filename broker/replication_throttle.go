package broker

import (
	"slices"
	"strconv"
	"time"

	"spool/controller/metadata"
	"spool/quota"
)

// Replication throttles, as Kafka applies them: a topic's
// leader.replication.throttled.replicas and
// follower.replication.throttled.replicas name partition:broker pairs (or
// "*"), each broker reading the pairs that name itself; on those
// partitions only replicas out of the ISR are throttled. A leader serves
// such a follower nothing while its sampled rate of throttled bytes is
// over leader.replication.throttled.rate, and a follower leaves such
// partitions out of its fetches while its rate is over
// follower.replication.throttled.rate. Both rates are dynamic broker
// configs, read from the image on each fetch.

const (
	leaderThrottledReplicas   = "leader.replication.throttled.replicas"
	followerThrottledReplicas = "follower.replication.throttled.replicas"
)

// replicationThrottles are this broker's two sides.
type replicationThrottles struct {
	leader, follower *quota.Replication
}

func newReplicationThrottles(b *Broker) replicationThrottles {
	w := quota.Window{Samples: int(b.cfg.Static.Int("replication.quota.window.num")),
		Size: time.Duration(b.cfg.Static.Int("replication.quota.window.size.seconds")) * time.Second}
	now := time.Now()
	return replicationThrottles{leader: quota.NewReplication(w, now), follower: quota.NewReplication(w, now)}
}

// replicationRate is a throttle rate from the broker's configs; unset or
// unreadable means unlimited.
func (b *Broker) replicationRate(img *metadata.Image, key string) int64 {
	v, _ := b.configLayers(img).Broker(key)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return quota.Unlimited
	}
	return n
}

// throttledReplica reports whether replica's replication of p is
// throttled by the topic's list key: p is listed for this broker and
// replica is not in the ISR.
func (b *Broker) throttledReplica(img *metadata.Image, p *partition, key string, replica int32) bool {
	if img == nil {
		return false
	}
	list := img.TopicConfig(p.topic)[key]
	if list == "" || !quota.ThrottledReplica(list, p.id, b.cfg.NodeID) {
		return false
	}
	return !slices.Contains(p.inSyncReplicas(), replica)
}

// leaderHoldsBack reports whether the leader sends nothing of p to
// follower now, and whether what it does send counts against the leader's
// throttle.
func (b *Broker) leaderHoldsBack(img *metadata.Image, p *partition, follower int32, now time.Time) (hold, throttled bool) {
	if !b.throttledReplica(img, p, leaderThrottledReplicas, follower) {
		return false, false
	}
	return b.replThrottle.leader.Exceeded(b.replicationRate(img, "leader.replication.throttled.rate"), now), true
}

// followerHoldsBack is leaderHoldsBack for this broker fetching p.
func (b *Broker) followerHoldsBack(img *metadata.Image, p *partition, now time.Time) (hold, throttled bool) {
	if !b.throttledReplica(img, p, followerThrottledReplicas, b.cfg.NodeID) {
		return false, false
	}
	return b.replThrottle.follower.Exceeded(b.replicationRate(img, "follower.replication.throttled.rate"), now), true
}

// imageIfFollowing is the image, or nil on a broker put together without
// a metadata follower (unit tests of the fetcher).
func (b *Broker) imageIfFollowing() *metadata.Image {
	if b.meta == nil {
		return nil
	}
	return b.Image()
}
