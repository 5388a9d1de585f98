package conformance

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// shareMember is a member id as a share consumer makes it (a Kafka Uuid
// in base64).
const shareMember = "c2hhcmUtbWVtYmVyLTAwMQ"

// sgHeartbeat is a ShareGroupHeartbeat; a join subscribes to topic.
func sgHeartbeat(group, member string, epoch int32, topic string, edit func(*kmsg.ShareGroupHeartbeatRequest)) func(*side) kmsg.Request {
	return func(sd *side) kmsg.Request {
		e := epoch
		if e >= savedEpoch {
			e = sd.int32("sg-epoch") + e - savedEpoch
		}
		req := kmsg.NewPtrShareGroupHeartbeatRequest()
		req.GroupID, req.MemberID, req.MemberEpoch = group, member, e
		if epoch == 0 {
			req.SubscribedTopicNames = []string{topic}
		}
		if edit != nil {
			edit(req)
		}
		return req
	}
}

func saveShareEpoch(sd *side, r kmsg.Response) {
	if resp := r.(*kmsg.ShareGroupHeartbeatResponse); resp.ErrorCode == 0 {
		sd.vars["sg-epoch"] = resp.MemberEpoch
	}
}

func sgDescribe(groups ...string) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrShareGroupDescribeRequest()
		req.GroupIDs = groups
		return req
	}
}

// shareFetch is a ShareFetch of member at session epoch for partition 0
// of topic, with edit applied.
func shareFetch(group, member string, epoch int32, topic string, edit func(*kmsg.ShareFetchRequest)) func(*side) kmsg.Request {
	return func(sd *side) kmsg.Request {
		req := kmsg.NewPtrShareFetchRequest()
		req.GroupID, req.MemberID, req.ShareSessionEpoch = kmsg.StringPtr(group), kmsg.StringPtr(member), epoch
		req.MaxWaitMillis, req.MinBytes, req.MaxBytes, req.MaxRecords, req.BatchSize = 100, 1, 1<<20, 500, 500
		if topic != "" {
			id, _ := sd.vars["id:"+topic].([16]byte)
			t := kmsg.NewShareFetchRequestTopic()
			t.TopicID = id
			p := kmsg.NewShareFetchRequestTopicPartition()
			t.Partitions = append(t.Partitions, p)
			req.Topics = append(req.Topics, t)
		}
		if edit != nil {
			edit(req)
		}
		return req
	}
}

func shareAcknowledge(group, member string, epoch int32) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrShareAcknowledgeRequest()
		req.GroupID, req.MemberID, req.ShareSessionEpoch = kmsg.StringPtr(group), kmsg.StringPtr(member), epoch
		return req
	}
}

func describeShareOffsets(group, topic string) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrDescribeShareGroupOffsetsRequest()
		g := kmsg.NewDescribeShareGroupOffsetsRequestGroup()
		g.GroupID = group
		if topic != "" {
			t := kmsg.NewDescribeShareGroupOffsetsRequestGroupTopic()
			t.Topic, t.Partitions = topic, []int32{0}
			g.Topics = append(g.Topics, t)
		}
		req.Groups = append(req.Groups, g)
		return req
	}
}

var (
	sgCompare      = []string{"ErrorCode", "MemberID"}
	sgErrorCompare = []string{"ErrorCode"}
	sgDescribed    = []string{"**ErrorCode", "Groups[*].GroupState", "Groups[*].Assignor", "Groups[*].Members.len"}
	shareTopLevel  = []string{"ErrorCode"}
)

// shareGroupScripts compare KIP-932's share groups: membership and
// Kafka's validation of ShareGroupHeartbeat, describe and list, share
// session epochs of ShareFetch and ShareAcknowledge, share offsets, leave
// and delete.
func shareGroupScripts() []script {
	const g, topic = "grp-s", "st-s"
	return []script{
		{name: "share-group", steps: append(newTopic(topicSpec{name: topic}),
			step{name: "setup-find-coordinator", setup: true, req: findCoordinator(g, 0)},
			step{name: "sgh-join", req: sgHeartbeat(g, shareMember, 0, topic, nil), compare: sgCompare, wait: true, save: saveShareEpoch},
			step{name: "sgh-heartbeat", req: sgHeartbeat(g, shareMember, savedEpoch, topic, nil), compare: sgCompare, settle: true, save: saveShareEpoch},
			step{name: "sgh-greater-epoch", req: sgHeartbeat(g, shareMember, savedEpoch+5, topic, nil), compare: sgErrorCompare},
			step{name: "sgh-unknown-member", req: sgHeartbeat(g, "c2hhcmUtbWVtYmVyLTk5OQ", 1, topic, nil), compare: sgErrorCompare},
			step{name: "sgh-empty-group-id", req: sgHeartbeat("", shareMember, 0, topic, nil), compare: sgErrorCompare},
			step{name: "sgh-empty-member-id", req: sgHeartbeat(g, "", 0, topic, nil), compare: sgErrorCompare},
			step{name: "sgh-join-without-subscription", req: sgHeartbeat(g, "c2hhcmUtbWVtYmVyLTAwMg", 0, topic, func(r *kmsg.ShareGroupHeartbeatRequest) {
				r.SubscribedTopicNames = nil
			}), compare: sgErrorCompare},
			step{name: "sgh-bad-epoch", req: sgHeartbeat(g, shareMember, -3, topic, nil), compare: sgErrorCompare},
			step{name: "describe", req: sgDescribe(g), compare: sgDescribed},
			step{name: "describe-unknown", req: sgDescribe("grp-never"), compare: sgDescribed},
			step{name: "list-share-groups", req: listGroupsOfType("share"), compare: []string{"ErrorCode", "Groups[grp-s].GroupType", "Groups[grp-s].ProtocolType"}},
			step{name: "fetch-no-session", req: shareFetch(g, shareMember, 3, topic, nil), compare: shareTopLevel},
			step{name: "fetch-no-group", req: shareFetch("", shareMember, 0, topic, nil), compare: []string{"**ErrorCode", "Topics.len"}},
			step{name: "fetch-open", req: shareFetch(g, shareMember, 0, topic, nil), compare: []string{"ErrorCode", "Topics.len"}, settle: true},
			step{name: "fetch-wrong-epoch", req: shareFetch(g, shareMember, 7, "", nil), compare: shareTopLevel},
			step{name: "fetch-next", req: shareFetch(g, shareMember, 1, "", nil), compare: shareTopLevel},
			step{name: "acknowledge-epoch-0", req: shareAcknowledge(g, shareMember, 0), compare: shareTopLevel},
			step{name: "acknowledge-no-session", req: shareAcknowledge(g, "c2hhcmUtbWVtYmVyLTk5OQ", 2), compare: shareTopLevel},
			step{name: "acknowledge", req: shareAcknowledge(g, shareMember, 2), compare: shareTopLevel},
			step{name: "fetch-close", req: shareFetch(g, shareMember, -1, "", nil), compare: shareTopLevel},
			step{name: "describe-offsets-unknown-group", req: describeShareOffsets("grp-never", topic), compare: []string{"Groups[*].ErrorCode", "Groups[*].Topics[*].Partitions[*].ErrorCode"}},
			step{name: "delete-live-group", req: deleteGroups(g)},
			step{name: "sgh-leave", req: sgHeartbeat(g, shareMember, -1, topic, nil), compare: []string{"ErrorCode", "MemberID", "MemberEpoch"}},
			step{name: "describe-after-leave", req: sgDescribe(g), compare: sgDescribed},
			step{name: "delete-group", req: deleteGroups(g)},
			step{name: "describe-after-delete", req: sgDescribe(g), compare: sgDescribed},
		)},
	}
}
