package conformance

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// savedEpoch asks cgHeartbeat for the member epoch the server last gave
// (saveEpoch), plus the rest of the value.
const savedEpoch = 1 << 20

// cgHeartbeat is a ConsumerGroupHeartbeat from member at epoch; join
// subscribes it to topic as a first heartbeat must.
func cgHeartbeat(group, member string, epoch int32, topic string, edit func(*kmsg.ConsumerGroupHeartbeatRequest)) func(*side) kmsg.Request {
	return func(sd *side) kmsg.Request {
		e := epoch
		if e >= savedEpoch {
			e = sd.int32("cg-epoch") + e - savedEpoch
		}
		req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
		req.Group, req.MemberID, req.MemberEpoch, req.RebalanceTimeoutMillis = group, member, e, -1
		if epoch == 0 {
			req.RebalanceTimeoutMillis = 30000
			req.SubscribedTopicNames = []string{topic}
			req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
		}
		if edit != nil {
			edit(req)
		}
		return req
	}
}

// saveEpoch keeps the member epoch of a heartbeat's answer. Epochs are
// not compared: Kafka bumps the group epoch once more when the new topic's
// metadata reaches its coordinator after the join, at a time of its own.
func saveEpoch(sd *side, r kmsg.Response) {
	if resp := r.(*kmsg.ConsumerGroupHeartbeatResponse); resp.ErrorCode == 0 {
		sd.vars["cg-epoch"] = resp.MemberEpoch
	}
}

func cgDescribe(groups ...string) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrConsumerGroupDescribeRequest()
		req.Groups = groups
		return req
	}
}

func listGroupsOfType(types ...string) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrListGroupsRequest()
		req.TypesFilter = types
		return req
	}
}

var (
	cgCompare       = []string{"ErrorCode", "ErrorMessage", "MemberID"}
	cgErrorCompare  = []string{"ErrorCode", "ErrorMessage"}
	cgDescribedKeys = []string{"**ErrorCode", "**ErrorMessage", "Groups[*].State", "Groups[*].AssignorName", "Groups[*].Members.len"}
	// cgLiveKeys leave out the state of a group with members: after the
	// late epoch bump (see saveEpoch) Kafka stays Assigning until the
	// member's next heartbeat, Spool is already Stable.
	cgLiveKeys = []string{"**ErrorCode", "**ErrorMessage", "Groups[*].AssignorName", "Groups[*].Members.len"}
)

// consumerGroupScripts compare KIP-848's consumer group protocol: joins,
// Kafka's validation errors and messages, describe, list, commits checked
// against member epochs, leave and delete.
func consumerGroupScripts() []script {
	const g, topic = "grp-c", "gt-c"
	stale := func(sd *side) kmsg.Request {
		r := commit(g, "", topic, 0, 4, "")(sd).(*kmsg.OffsetCommitRequest)
		r.MemberID, r.Generation = "m-1", sd.int32("cg-epoch")-1
		return r
	}
	return []script{
		{name: "consumer-group-kip848", steps: append(newTopic(topicSpec{name: topic, partitions: 2}),
			step{name: "cgh-join", req: cgHeartbeat(g, "m-1", 0, topic, nil), compare: cgCompare, wait: true, save: saveEpoch},
			step{name: "cgh-heartbeat", req: cgHeartbeat(g, "m-1", savedEpoch, topic, nil), compare: []string{"ErrorCode", "MemberID"}, settle: true, save: saveEpoch},
			step{name: "cgh-greater-epoch", req: cgHeartbeat(g, "m-1", savedEpoch+5, topic, nil), compare: []string{"ErrorCode"}},
			step{name: "cgh-unknown-member", req: cgHeartbeat(g, "m-x", 1, topic, nil), compare: cgErrorCompare},
			step{name: "cgh-unknown-group", req: cgHeartbeat("grp-never", "m-1", 1, topic, nil), compare: cgErrorCompare},
			step{name: "cgh-empty-group-id", req: cgHeartbeat("", "m-1", 0, topic, nil), compare: cgErrorCompare},
			step{name: "cgh-empty-member-id", req: cgHeartbeat(g, "", 0, topic, nil), compare: cgErrorCompare},
			step{name: "cgh-join-without-rebalance-timeout", req: cgHeartbeat(g, "m-2", 0, topic, func(r *kmsg.ConsumerGroupHeartbeatRequest) {
				r.RebalanceTimeoutMillis = -1
			}), compare: cgErrorCompare},
			step{name: "cgh-join-without-subscription", req: cgHeartbeat(g, "m-2", 0, topic, func(r *kmsg.ConsumerGroupHeartbeatRequest) {
				r.SubscribedTopicNames = nil
			}), compare: cgErrorCompare},
			step{name: "cgh-join-owning-partitions", req: cgHeartbeat(g, "m-2", 0, topic, func(r *kmsg.ConsumerGroupHeartbeatRequest) {
				r.Topics = nil
			}), compare: cgErrorCompare},
			step{name: "cgh-bad-regex", req: cgHeartbeat(g, "m-2", 0, topic, func(r *kmsg.ConsumerGroupHeartbeatRequest) {
				r.SubscribedTopicNames, r.SubscribedTopicRegex = nil, kmsg.StringPtr("gt-[")
			}), compare: cgErrorCompare},
			step{name: "cgh-bad-epoch", req: cgHeartbeat(g, "m-1", -3, topic, nil), compare: cgErrorCompare},
			step{name: "describe", req: cgDescribe(g), compare: cgLiveKeys},
			step{name: "describe-unknown", req: cgDescribe("grp-never"), compare: cgDescribedKeys},
			step{name: "list-consumer-groups", req: listGroupsOfType("consumer"), compare: []string{"ErrorCode", "Groups[grp-c].GroupType", "Groups[grp-c].ProtocolType"}},
			step{name: "commit-member", req: func(sd *side) kmsg.Request {
				r := commit(g, "", topic, 0, 3, "")(sd).(*kmsg.OffsetCommitRequest)
				r.MemberID, r.Generation = "m-1", sd.int32("cg-epoch")
				return r
			}},
			step{name: "commit-stale-epoch", req: stale},
			step{name: "delete-live-group", req: deleteGroups(g)},
			step{name: "cgh-leave", req: cgHeartbeat(g, "m-1", -1, topic, nil), compare: []string{"ErrorCode", "MemberID", "MemberEpoch"}},
			step{name: "describe-after-leave", req: cgDescribe(g), compare: cgDescribedKeys},
			step{name: "delete-group", req: deleteGroups(g)},
			step{name: "describe-after-delete", req: cgDescribe(g), compare: cgDescribedKeys},
		)},
	}
}
