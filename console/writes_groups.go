package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/security"
)

type resetOffsets struct {
	Topic      string  `json:"topic"`
	Partitions []int32 `json:"partitions"` // none: every partition
	To         string  `json:"to"`         // earliest, latest, offset or timestamp
	Offset     int64   `json:"offset"`
	Timestamp  int64   `json:"timestamp"`
}

// resetOffsets serves POST /v1/groups/{group}/offsets: commits new
// offsets for a topic's partitions, as kafka-consumer-groups
// --reset-offsets --execute does, only while the group has no members,
// allowed with READ on the group and on the topic (OffsetCommit's rule).
func (c *Console) resetOffsets(ctx context.Context, r *http.Request, dec *json.Decoder, p security.Principal, host string) (any, error) {
	group := r.PathValue("group")
	var req resetOffsets
	if err := decode(dec, &req, false); err != nil {
		return nil, err
	}
	t := c.image().Topics.ByName(req.Topic)
	if t == nil {
		return nil, notFound("unknown topic " + req.Topic)
	}
	parts := req.Partitions
	if len(parts) == 0 {
		for _, pt := range t.Partitions {
			parts = append(parts, pt.ID)
		}
	}
	for _, id := range parts {
		if t.Partition(id) == nil {
			return nil, notFound(fmt.Sprintf("topic %s has no partition %d", req.Topic, id))
		}
	}
	if !c.authorize(p, host, kmsg.ACLOperationRead, kmsg.ACLResourceTypeGroup, group) {
		return nil, refused(p, kmsg.ACLOperationRead, kmsg.ACLResourceTypeGroup, group)
	}
	if !c.authorize(p, host, kmsg.ACLOperationRead, kmsg.ACLResourceTypeTopic, req.Topic) {
		return nil, refused(p, kmsg.ACLOperationRead, kmsg.ACLResourceTypeTopic, req.Topic)
	}
	adm, err := c.admin()
	if err != nil {
		return nil, err
	}
	described, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return nil, err
	}
	if d, ok := described[group]; ok && d.Err == nil && len(d.Members) > 0 {
		return nil, &apiError{http.StatusConflict, fmt.Sprintf("group %s has %d members (state %s): stop its consumers before resetting offsets", group, len(d.Members), d.State)}
	}
	targets, err := c.resetTargets(ctx, adm, req, parts)
	if err != nil {
		return nil, err
	}
	committed, err := adm.CommitOffsets(ctx, group, targets)
	if err != nil {
		return nil, kafkaRefusal(err, "")
	}
	if err := committed.Error(); err != nil {
		return nil, kafkaRefusal(err, "")
	}
	out := []map[string]any{}
	for _, id := range parts {
		o, _ := targets.Lookup(req.Topic, id)
		out = append(out, map[string]any{"partition": id, "offset": o.At})
	}
	return map[string]any{"group": group, "topic": req.Topic, "offsets": out}, nil
}

// resetTargets resolves where each partition's offset goes.
func (c *Console) resetTargets(ctx context.Context, adm *kadm.Client, req resetOffsets, parts []int32) (kadm.Offsets, error) {
	var listed kadm.ListedOffsets
	var err error
	switch req.To {
	case "earliest":
		listed, err = adm.ListStartOffsets(ctx, req.Topic)
	case "latest":
		listed, err = adm.ListEndOffsets(ctx, req.Topic)
	case "timestamp":
		listed, err = adm.ListOffsetsAfterMilli(ctx, req.Timestamp, req.Topic)
	case "offset":
		if req.Offset < 0 {
			return nil, badRequest("offset must not be negative")
		}
	default:
		return nil, badRequest("to must be earliest, latest, offset or timestamp")
	}
	if err != nil {
		return nil, err
	}
	out := kadm.Offsets{}
	for _, id := range parts {
		at := req.Offset
		if listed != nil {
			lo, ok := listed.Lookup(req.Topic, id)
			if !ok || lo.Err != nil {
				return nil, fmt.Errorf("list offsets of %s-%d: %v", req.Topic, id, lo.Err)
			}
			at = lo.Offset
		}
		out.AddOffset(req.Topic, id, at, -1)
	}
	return out, nil
}
