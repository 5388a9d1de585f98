package controller

import (
	"context"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/protocol"
)

// Partition reassignment (KIP-455). A reassignment is recorded in the
// partition itself: Replicas is the target followed by the replicas being
// removed, AddingReplicas the target's new members, RemovingReplicas the
// old ones leaving. New replicas fetch as followers and join the ISR the
// usual way; once the whole target is in sync the reassignment completes
// (reassignCompletion): the removed replicas leave Replicas and the ISR,
// leadership moves off them, and their brokers delete the logs.

// AlterPartitionAssignments starts or cancels reassignments. Each
// partition succeeds or fails on its own.
func (c *Controller) AlterPartitionAssignments(ctx context.Context, req *kmsg.AlterPartitionAssignmentsRequest) *kmsg.AlterPartitionAssignmentsResponse {
	resp := req.ResponseKind().(*kmsg.AlterPartitionAssignmentsResponse)
	allowRF := req.Version < 1 || req.AllowReplicationFactorChange
	err := c.write(ctx, func(img *metadata.Image) ([]metadata.Record, error) {
		resp.Topics = resp.Topics[:0]
		var recs []metadata.Record
		for _, t := range req.Topics {
			rt := kmsg.NewAlterPartitionAssignmentsResponseTopic()
			rt.Topic = t.Topic
			topic := img.Topics.ByName(t.Topic)
			for _, p := range t.Partitions {
				rp := kmsg.NewAlterPartitionAssignmentsResponseTopicPartition()
				rp.Partition = p.Partition
				rec, e := reassignOne(img, topic, p.Partition, p.Replicas, allowRF)
				if e != nil {
					rp.ErrorCode, rp.ErrorMessage = e.err.Code, &e.msg
				} else if rec != nil {
					recs = append(recs, rec)
				}
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return recs, nil
	})
	if err != nil {
		resp.ErrorCode = errorCode(err)
	}
	return resp
}

// reassignOne returns the change starting, completing or cancelling one
// partition's reassignment; target nil cancels.
func reassignOne(img *metadata.Image, topic *metadata.Topic, id int32, target []int32, allowRF bool) (metadata.Record, *topicError) {
	if topic == nil {
		return nil, errf(kerr.UnknownTopicOrPartition, "The topic does not exist.")
	}
	p := topic.Partition(id)
	if p == nil {
		return nil, errf(kerr.UnknownTopicOrPartition, "The partition %d does not exist.", id)
	}
	original := originalReplicas(p)
	if target == nil {
		if len(p.AddingReplicas) == 0 && len(p.RemovingReplicas) == 0 {
			return nil, errf(kerr.NoReassignmentInProgress, "No reassignment is in progress for partition %s-%d.", topic.Name, id)
		}
		return moveTo(img, topic, p, original), nil
	}
	if e := checkTarget(img, target); e != nil {
		return nil, e
	}
	if !allowRF && len(target) != len(original) {
		return nil, errf(kerr.InvalidReplicationFactor, "The replication factor is changed from %d to %d but allowReplicationFactorChange is false.", len(original), len(target))
	}
	if slices.Equal(target, p.Replicas) && len(p.AddingReplicas) == 0 && len(p.RemovingReplicas) == 0 {
		return nil, nil // nothing to do
	}
	if isSubset(target, p.ISR) {
		return moveTo(img, topic, p, target), nil
	}
	pc := metadata.NewPartitionChangeRecord(topic.ID, id)
	pc.Replicas = slices.Clone(target)
	pc.AddingReplicas, pc.RemovingReplicas = []int32{}, []int32{}
	for _, r := range target {
		if !slices.Contains(original, r) {
			pc.AddingReplicas = append(pc.AddingReplicas, r)
		}
	}
	for _, r := range original {
		if !slices.Contains(target, r) {
			pc.Replicas = append(pc.Replicas, r)
			pc.RemovingReplicas = append(pc.RemovingReplicas, r)
		}
	}
	return pc, nil
}

// originalReplicas are the replicas before any reassignment in progress.
func originalReplicas(p *metadata.Partition) []int32 {
	return slices.DeleteFunc(slices.Clone(p.Replicas), func(r int32) bool { return slices.Contains(p.AddingReplicas, r) })
}

// moveTo makes replicas the partition's whole replica set at once: the ISR
// keeps only its members, leadership moves to the first of them in sync
// and live if the leader is leaving, and no reassignment remains.
func moveTo(img *metadata.Image, topic *metadata.Topic, p *metadata.Partition, replicas []int32) *metadata.PartitionChangeRecord {
	pc := metadata.NewPartitionChangeRecord(topic.ID, p.ID)
	pc.Replicas = slices.Clone(replicas)
	pc.AddingReplicas, pc.RemovingReplicas = []int32{}, []int32{}
	isr := slices.DeleteFunc(slices.Clone(p.ISR), func(r int32) bool { return !slices.Contains(replicas, r) })
	if len(isr) == 0 {
		// Cancelling back to replicas none of which is in sync: keep the
		// ISR as it is rather than invent one; the leader stays.
		isr = slices.Clone(p.ISR)
		pc.Replicas = append(pc.Replicas, slices.DeleteFunc(slices.Clone(p.ISR), func(r int32) bool { return slices.Contains(replicas, r) })...)
	}
	if !slices.Equal(isr, p.ISR) {
		pc.ISR = isr
	}
	if !slices.Contains(pc.Replicas, p.Leader) || (p.Leader >= 0 && !slices.Contains(isr, p.Leader)) {
		pc.Leader = metadata.NoLeader
		for _, r := range pc.Replicas {
			if b := img.Brokers[r]; b != nil && !b.Fenced && !b.InControlledShutdown && slices.Contains(isr, r) {
				pc.Leader = r
				break
			}
		}
	}
	return pc
}

// checkTarget checks a requested replica list: not empty, no repeats,
// registered brokers.
func checkTarget(img *metadata.Image, target []int32) *topicError {
	if len(target) == 0 {
		return errf(kerr.InvalidReplicaAssignment, "The manual partition assignment includes an empty replica list.")
	}
	seen := map[int32]bool{}
	for _, r := range target {
		if seen[r] {
			return errf(kerr.InvalidReplicaAssignment, "The manual partition assignment includes the broker %d more than once.", r)
		}
		seen[r] = true
		if _, ok := img.Brokers[r]; !ok {
			return errf(kerr.InvalidReplicaAssignment, "The manual partition assignment includes broker %d, but no such broker is registered.", r)
		}
	}
	return nil
}

func isSubset(a, b []int32) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// reassignCompletion completes p's reassignment once the ISR change pc
// puts its whole target in sync, by folding the completion into pc.
func reassignCompletion(img *metadata.Image, topic *metadata.Topic, p *metadata.Partition, pc *metadata.PartitionChangeRecord) {
	if len(p.AddingReplicas) == 0 && len(p.RemovingReplicas) == 0 {
		return
	}
	target := slices.DeleteFunc(slices.Clone(p.Replicas), func(r int32) bool { return slices.Contains(p.RemovingReplicas, r) })
	if !isSubset(target, pc.ISR) {
		return
	}
	after := *p
	after.ISR = pc.ISR
	done := moveTo(img, topic, &after, target)
	pc.Replicas, pc.AddingReplicas, pc.RemovingReplicas = done.Replicas, done.AddingReplicas, done.RemovingReplicas
	if done.ISR != nil {
		pc.ISR = done.ISR
	}
	pc.Leader = done.Leader
}

// ListPartitionReassignments lists the reassignments in progress, of every
// partition or of the ones asked for.
func (c *Controller) ListPartitionReassignments(req *kmsg.ListPartitionReassignmentsRequest) *kmsg.ListPartitionReassignmentsResponse {
	resp := req.ResponseKind().(*kmsg.ListPartitionReassignmentsResponse)
	img := c.Image()
	add := func(t *metadata.Topic, ids []int32) {
		rt := kmsg.NewListPartitionReassignmentsResponseTopic()
		rt.Topic = t.Name
		for _, id := range ids {
			p := t.Partition(id)
			if p == nil || (len(p.AddingReplicas) == 0 && len(p.RemovingReplicas) == 0) {
				continue
			}
			rp := kmsg.NewListPartitionReassignmentsResponseTopicPartition()
			rp.Partition = id
			rp.Replicas = slices.Clone(p.Replicas)
			rp.AddingReplicas = append([]int32{}, p.AddingReplicas...)
			rp.RemovingReplicas = append([]int32{}, p.RemovingReplicas...)
			rt.Partitions = append(rt.Partitions, rp)
		}
		if len(rt.Partitions) > 0 {
			resp.Topics = append(resp.Topics, rt)
		}
	}
	if req.Topics == nil {
		img.Topics.Range(func(t *metadata.Topic) bool {
			ids := make([]int32, len(t.Partitions))
			for i := range ids {
				ids[i] = int32(i)
			}
			add(t, ids)
			return true
		})
		return resp
	}
	for _, rt := range req.Topics {
		t := img.Topics.ByName(rt.Topic)
		if t == nil {
			resp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			msg := fmt.Sprintf("The topic %s does not exist.", rt.Topic)
			resp.ErrorMessage = &msg
			return resp
		}
		add(t, rt.Partitions)
	}
	return resp
}

func (c *Controller) serveAlterPartitionAssignments(ctx context.Context, req *protocol.Request) protocol.Response {
	return protocol.Msg(c.AlterPartitionAssignments(ctx, req.Msg.(*kmsg.AlterPartitionAssignmentsRequest)))
}

func (c *Controller) serveListPartitionReassignments(req *protocol.Request, respond func(protocol.Response)) {
	respond(protocol.Msg(c.ListPartitionReassignments(req.Msg.(*kmsg.ListPartitionReassignmentsRequest))))
}
