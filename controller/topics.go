package controller

import (
	crand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/config"
	"spool/controller/metadata"
)

// topicError is a per-topic failure with Kafka's code and a message.
type topicError struct {
	err *kerr.Error
	msg string
}

func errf(e *kerr.Error, format string, args ...any) *topicError {
	return &topicError{e, fmt.Sprintf(format, args...)}
}

// ValidateTopicName applies Kafka's topic name rules.
func ValidateTopicName(name string) *topicError {
	if msg := metadata.TopicNameProblem(name); msg != "" {
		return &topicError{kerr.InvalidTopicException, msg}
	}
	return nil
}

// collisionKey folds '.' into '_': Kafka's metric names do the same, so two
// topics differing only there would collide.
func collisionKey(name string) string { return strings.ReplaceAll(name, ".", "_") }

// topicCreator validates and places the topics of one CreateTopics request
// against an image, remembering names it already accepted.
type topicCreator struct {
	img        *metadata.Image
	static     *config.Config
	taken      map[string]string // collision key -> name, of existing and accepted topics
	brokers    []int32           // unfenced, sorted
	racks      map[int32]string  // of unfenced brokers, when any has a rack
	registered int
}

func newTopicCreator(img *metadata.Image, static *config.Config) *topicCreator {
	tc := &topicCreator{img: img, static: static, taken: map[string]string{}}
	img.Topics.Range(func(t *metadata.Topic) bool {
		tc.taken[collisionKey(t.Name)] = t.Name
		return true
	})
	for id, b := range img.Brokers {
		tc.registered++
		if !b.Fenced && !b.InControlledShutdown {
			tc.brokers = append(tc.brokers, id)
			if b.Rack != nil {
				if tc.racks == nil {
					tc.racks = map[int32]string{}
				}
				tc.racks[id] = *b.Rack
			}
		}
	}
	slices.Sort(tc.brokers)
	return tc
}

// create validates one topic and returns its records, or the error.
func (tc *topicCreator) create(t *kmsg.CreateTopicsRequestTopic, resp *kmsg.CreateTopicsResponseTopic) ([]metadata.Record, *topicError) {
	if e := ValidateTopicName(t.Topic); e != nil {
		return nil, e
	}
	if t.Topic == MetadataTopic {
		return nil, errf(kerr.InvalidRequest, "Creation of internal topic %s is prohibited.", MetadataTopic)
	}
	if tc.img.Topics.ByName(t.Topic) != nil {
		return nil, errf(kerr.TopicAlreadyExists, "Topic '%s' already exists.", t.Topic)
	}
	if other, ok := tc.taken[collisionKey(t.Topic)]; ok {
		return nil, errf(kerr.InvalidTopicException, "Topic '%s' collides with existing topic: %s", t.Topic, other)
	}
	if e := validateTopicConfigs(t.Configs); e != nil {
		return nil, e
	}
	if e := tc.checkTiering(t.Configs); e != nil {
		return nil, e
	}
	assignment, e := tc.assignment(t)
	if e != nil {
		return nil, e
	}
	resp.NumPartitions = int32(len(assignment))
	resp.ReplicationFactor = int16(len(assignment[0]))
	resp.Configs = tc.createdTopicConfigs(t.Configs)
	id := newTopicID()
	resp.TopicID = id
	tc.taken[collisionKey(t.Topic)] = t.Topic

	recs := []metadata.Record{&metadata.TopicRecord{Name: t.Topic, TopicID: id}}
	for _, c := range t.Configs {
		recs = append(recs, &metadata.ConfigRecord{ResourceType: metadata.ConfigResourceTopic, ResourceName: t.Topic, Name: c.Name, Value: c.Value})
	}
	for p, replicas := range assignment {
		recs = append(recs, &metadata.PartitionRecord{
			PartitionID: int32(p), TopicID: id,
			Replicas: replicas, ISR: slices.Clone(replicas), Leader: replicas[0],
		})
	}
	return recs, nil
}

func validateTopicConfigs(cfgs []kmsg.CreateTopicsRequestTopicConfig) *topicError {
	seen := map[string]bool{}
	for _, c := range cfgs {
		d := config.LookupTopic(c.Name)
		if d == nil {
			return errf(kerr.InvalidConfig, "Unknown topic config name: %s", c.Name)
		}
		if seen[c.Name] {
			return errf(kerr.InvalidRequest, "Duplicate config name %s", c.Name)
		}
		seen[c.Name] = true
		if c.Value == nil {
			return errf(kerr.InvalidConfig, "Null value not supported for topic config %s", c.Name)
		}
		if err := d.Check(*c.Value); err != nil {
			return errf(kerr.InvalidConfig, "Invalid value %s for configuration %s: %v", *c.Value, c.Name, err)
		}
	}
	return nil
}

// assignment returns the replicas of every partition: the request's own
// assignment, checked, or a placement over the unfenced brokers.
func (tc *topicCreator) assignment(t *kmsg.CreateTopicsRequestTopic) ([][]int32, *topicError) {
	if len(t.ReplicaAssignment) > 0 {
		return tc.checkAssignment(t)
	}
	n := t.NumPartitions
	if n == -1 {
		n = int32(tc.static.Int("num.partitions"))
	}
	if n <= 0 {
		return nil, errf(kerr.InvalidPartitions, "Number of partitions was set to an invalid non-positive value.")
	}
	rf := int32(t.ReplicationFactor)
	if rf == -1 {
		rf = int32(tc.static.Int("default.replication.factor"))
	}
	if rf <= 0 {
		return nil, errf(kerr.InvalidReplicationFactor, "Replication factor must be larger than 0.")
	}
	if int(rf) > len(tc.brokers) {
		return nil, errf(kerr.InvalidReplicationFactor, "Unable to replicate the partition %d time(s): The target replication factor of %d cannot be reached because only %d broker(s) are registered.", rf, rf, len(tc.brokers))
	}
	return place(tc.brokers, tc.racks, n, rf, rand.IntN(len(tc.brokers))), nil
}

// place spreads replicas round-robin: partition p's leader is broker
// start+p, so leaders rotate over the brokers, and the followers start at a
// shift that grows every full round, so each broker's followers are spread
// over the others too. Followers skip the leader, so no broker repeats.
// With racks, brokers are ordered alternating between racks and each
// follower prefers a rack the partition does not use yet.
func place(brokers []int32, racks map[int32]string, partitions, rf int32, start int) [][]int32 {
	order := brokers
	if len(racks) > 0 {
		order = rackAlternated(brokers, racks)
	}
	out := make([][]int32, partitions)
	nb := len(order)
	for p := range out {
		first := (start + p) % nb
		replicas := []int32{order[first]}
		if nb > 1 {
			shift := (p / nb) % (nb - 1)
			var candidates []int32
			for j := 0; j < nb-1; j++ {
				candidates = append(candidates, order[(first+1+(shift+j)%(nb-1))%nb])
			}
			replicas = pickFollowers(replicas, candidates, int(rf), racks)
		}
		out[p] = replicas
	}
	return out
}

// pickFollowers adds followers from candidates in order, preferring racks
// not yet used by the partition.
func pickFollowers(replicas, candidates []int32, rf int, racks map[int32]string) []int32 {
	used := map[string]bool{racks[replicas[0]]: true}
	taken := map[int32]bool{replicas[0]: true}
	for pass := 0; pass < 2 && len(replicas) < rf; pass++ {
		for _, c := range candidates {
			if len(replicas) == rf {
				break
			}
			if taken[c] || (pass == 0 && len(racks) > 0 && used[racks[c]]) {
				continue
			}
			replicas = append(replicas, c)
			taken[c], used[racks[c]] = true, true
		}
	}
	return replicas
}

// rackAlternated orders brokers by taking one from each rack in turn, so
// consecutive brokers sit on different racks.
func rackAlternated(brokers []int32, racks map[int32]string) []int32 {
	byRack := map[string][]int32{}
	var names []string
	for _, b := range brokers {
		r := racks[b]
		if _, ok := byRack[r]; !ok {
			names = append(names, r)
		}
		byRack[r] = append(byRack[r], b)
	}
	slices.Sort(names)
	var out []int32
	for i := 0; len(out) < len(brokers); i++ {
		for _, r := range names {
			if i < len(byRack[r]) {
				out = append(out, byRack[r][i])
			}
		}
	}
	return out
}

func (tc *topicCreator) checkAssignment(t *kmsg.CreateTopicsRequestTopic) ([][]int32, *topicError) {
	if t.NumPartitions != -1 || t.ReplicationFactor != -1 {
		return nil, errf(kerr.InvalidRequest, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.")
	}
	out := make([][]int32, len(t.ReplicaAssignment))
	for _, a := range t.ReplicaAssignment {
		if a.Partition < 0 || int(a.Partition) >= len(out) || out[a.Partition] != nil {
			return nil, errf(kerr.InvalidReplicaAssignment, "Partitions should be a consecutive 0-based integer sequence")
		}
		if len(a.Replicas) == 0 {
			return nil, errf(kerr.InvalidReplicaAssignment, "The manual partition assignment includes an empty replica list.")
		}
		seen := map[int32]bool{}
		for _, r := range a.Replicas {
			if seen[r] {
				return nil, errf(kerr.InvalidReplicaAssignment, "The manual partition assignment includes the broker %d more than once.", r)
			}
			seen[r] = true
			if _, ok := tc.img.Brokers[r]; !ok {
				return nil, errf(kerr.InvalidReplicaAssignment, "The manual partition assignment includes broker %d, but no such broker is registered.", r)
			}
		}
		if len(a.Replicas) != len(t.ReplicaAssignment[0].Replicas) {
			return nil, errf(kerr.InvalidReplicaAssignment, "The manual partition assignment includes a partition with %d replica(s), but this is inconsistent with previous partitions, which had %d replica(s).", len(a.Replicas), len(t.ReplicaAssignment[0].Replicas))
		}
		out[a.Partition] = slices.Clone(a.Replicas)
	}
	return out, nil
}

func newTopicID() [16]byte {
	var id [16]byte
	for id == ([16]byte{}) {
		crand.Read(id[:])
	}
	return id
}
