package controller

import (
	"context"
	"math/rand/v2"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

// CreatePartitions adds partitions to existing topics. Each topic succeeds
// or fails on its own; the answer goes out once the new partitions commit.
func (c *Controller) CreatePartitions(ctx context.Context, req *kmsg.CreatePartitionsRequest) *kmsg.CreatePartitionsResponse {
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	resp.Topics = make([]kmsg.CreatePartitionsResponseTopic, len(req.Topics))
	counts := map[string]int{}
	for _, t := range req.Topics {
		counts[t.Topic]++
	}
	err := c.write(ctx, func(img *metadata.Image) ([]metadata.Record, error) {
		brokers := usableBrokers(img)
		var recs []metadata.Record
		for i := range req.Topics {
			t, rt := &req.Topics[i], &resp.Topics[i]
			*rt = kmsg.NewCreatePartitionsResponseTopic()
			rt.Topic = t.Topic
			if counts[t.Topic] > 1 {
				setPartitionsErr(rt, errf(kerr.InvalidRequest, "Duplicate topic name %s in the request.", t.Topic))
				continue
			}
			trecs, e := addPartitions(img, brokers, t, rand.IntN(max(len(brokers), 1)))
			if e != nil {
				setPartitionsErr(rt, e)
				continue
			}
			if !req.ValidateOnly {
				recs = append(recs, trecs...)
			}
		}
		return recs, nil
	})
	if err != nil {
		code := errorCode(err)
		for i := range resp.Topics {
			resp.Topics[i].Topic = req.Topics[i].Topic
			if resp.Topics[i].ErrorCode == 0 {
				resp.Topics[i].ErrorCode = code
			}
		}
	}
	return resp
}

func setPartitionsErr(rt *kmsg.CreatePartitionsResponseTopic, e *topicError) {
	rt.ErrorCode, rt.ErrorMessage = e.err.Code, &e.msg
}

// usableBrokers are the unfenced brokers not shutting down, sorted.
func usableBrokers(img *metadata.Image) []int32 {
	var out []int32
	for id, b := range img.Brokers {
		if !b.Fenced && !b.InControlledShutdown {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// brokerRacks maps the given brokers to their racks, or is nil when none
// has a rack, as placement at creation expects.
func brokerRacks(img *metadata.Image, brokers []int32) map[int32]string {
	var racks map[int32]string
	for _, id := range brokers {
		if b := img.Brokers[id]; b != nil && b.Rack != nil {
			if racks == nil {
				racks = map[int32]string{}
			}
			racks[id] = *b.Rack
		}
	}
	return racks
}

// addPartitions validates one topic's increase and returns the records of
// its new partitions. New partitions keep the topic's replication factor and
// continue the rotation that placed the topic at creation (partition 0's
// first replica marks where it started); fallback is the start when that
// broker is gone.
func addPartitions(img *metadata.Image, brokers []int32, t *kmsg.CreatePartitionsRequestTopic, fallback int) ([]metadata.Record, *topicError) {
	topic := img.Topics.ByName(t.Topic)
	if topic == nil {
		return nil, errf(kerr.UnknownTopicOrPartition, "The topic '%s' does not exist.", t.Topic)
	}
	cur := int32(len(topic.Partitions))
	switch {
	case t.Count < cur:
		return nil, errf(kerr.InvalidPartitions, "The topic %s currently has %d partition(s); %d would not be an increase.", t.Topic, cur, t.Count)
	case t.Count == cur:
		return nil, errf(kerr.InvalidPartitions, "Topic already has %d partition(s).", cur)
	}
	add := t.Count - cur
	rf := int32(len(topic.Partitions[0].Replicas))
	var assignment [][]int32
	if t.Assignment != nil {
		var e *topicError
		if assignment, e = checkAddedAssignment(img, t, add, rf); e != nil {
			return nil, e
		}
	} else {
		if int(rf) > len(brokers) {
			return nil, errf(kerr.InvalidReplicationFactor, "Unable to replicate the partition %d time(s): The target replication factor of %d cannot be reached because only %d broker(s) are registered.", rf, rf, len(brokers))
		}
		racks := brokerRacks(img, brokers)
		order := brokers
		if len(racks) > 0 {
			order = rackAlternated(brokers, racks)
		}
		start := slices.Index(order, topic.Partitions[0].Replicas[0])
		if start < 0 {
			start = fallback
		}
		assignment = place(brokers, racks, t.Count, rf, start)[cur:]
	}
	recs := make([]metadata.Record, 0, add)
	for i, replicas := range assignment {
		isr := slices.DeleteFunc(slices.Clone(replicas), func(id int32) bool {
			b := img.Brokers[id]
			return b == nil || b.Fenced || b.InControlledShutdown
		})
		if len(isr) == 0 {
			return nil, errf(kerr.InvalidReplicaAssignment, "All brokers specified in the partition assignment for partition %d are fenced or in controlled shutdown.", cur+int32(i))
		}
		recs = append(recs, &metadata.PartitionRecord{
			PartitionID: cur + int32(i), TopicID: topic.ID,
			Replicas: replicas, ISR: isr, Leader: isr[0],
		})
	}
	return recs, nil
}

// checkAddedAssignment checks a manual assignment of the new partitions:
// one replica list per new partition, each with the topic's replication
// factor, registered brokers and no repeats.
func checkAddedAssignment(img *metadata.Image, t *kmsg.CreatePartitionsRequestTopic, add, rf int32) ([][]int32, *topicError) {
	if int32(len(t.Assignment)) != add {
		return nil, errf(kerr.InvalidReplicaAssignment, "Attempted to add %d additional partition(s), but only %d assignment(s) were specified.", add, len(t.Assignment))
	}
	out := make([][]int32, 0, add)
	for _, a := range t.Assignment {
		if len(a.Replicas) == 0 {
			return nil, errf(kerr.InvalidReplicaAssignment, "The manual partition assignment includes an empty replica list.")
		}
		if int32(len(a.Replicas)) != rf {
			return nil, errf(kerr.InvalidReplicaAssignment, "The manual partition assignment includes a partition with %d replica(s), but this is inconsistent with previous partitions, which have %d replica(s).", len(a.Replicas), rf)
		}
		seen := map[int32]bool{}
		for _, r := range a.Replicas {
			if seen[r] {
				return nil, errf(kerr.InvalidReplicaAssignment, "The manual partition assignment includes the broker %d more than once.", r)
			}
			seen[r] = true
			if _, ok := img.Brokers[r]; !ok {
				return nil, errf(kerr.InvalidReplicaAssignment, "The manual partition assignment includes broker %d, but no such broker is registered.", r)
			}
		}
		out = append(out, slices.Clone(a.Replicas))
	}
	return out, nil
}
