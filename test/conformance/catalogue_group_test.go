package conformance

import (
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

var joinCompare = []string{"ErrorCode", "Generation", "Protocol", "ProtocolType", "Members.len"}

func findCoordinator(key string, typ int8) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.CoordinatorKey, req.CoordinatorType, req.CoordinatorKeys = key, typ, []string{key}
		return req
	}
}

// join sends JoinGroup as the member saved under who ("" for a new one).
func join(group, who, protocolType string, session int32) func(*side) kmsg.Request {
	return func(sd *side) kmsg.Request {
		req := kmsg.NewPtrJoinGroupRequest()
		req.Group, req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = group, session, 10000
		req.MemberID, req.ProtocolType = sd.str("member:"+who), protocolType
		p := kmsg.NewJoinGroupRequestProtocol()
		md := kmsg.ConsumerMemberMetadata{Version: 0, Topics: []string{"gt-a"}}
		p.Name, p.Metadata = "range", md.AppendTo(nil)
		req.Protocols = append(req.Protocols, p)
		return req
	}
}

// saveMember keeps the member id and generation a JoinGroup gave who.
func saveMember(who string) func(*side, kmsg.Response) {
	return func(sd *side, r kmsg.Response) {
		resp := r.(*kmsg.JoinGroupResponse)
		sd.vars["member:"+who], sd.vars["gen"] = resp.MemberID, resp.Generation
	}
}

func syncGroup(group, who string, genDelta int32, assign bool) func(*side) kmsg.Request {
	return func(sd *side) kmsg.Request {
		req := kmsg.NewPtrSyncGroupRequest()
		req.Group, req.MemberID, req.Generation = group, sd.str("member:"+who), sd.int32("gen")+genDelta
		req.ProtocolType, req.Protocol = kmsg.StringPtr("consumer"), kmsg.StringPtr("range")
		if assign {
			a := kmsg.NewSyncGroupRequestGroupAssignment()
			ma := kmsg.ConsumerMemberAssignment{Version: 0}
			a.MemberID, a.MemberAssignment = req.MemberID, ma.AppendTo(nil)
			req.GroupAssignment = append(req.GroupAssignment, a)
		}
		return req
	}
}

func heartbeat(group, who string, genDelta int32) func(*side) kmsg.Request {
	return func(sd *side) kmsg.Request {
		req := kmsg.NewPtrHeartbeatRequest()
		req.Group, req.MemberID, req.Generation = group, sd.str("member:"+who), sd.int32("gen")+genDelta
		return req
	}
}

func leaveGroup(group, who string) func(*side) kmsg.Request {
	return func(sd *side) kmsg.Request {
		req := kmsg.NewPtrLeaveGroupRequest()
		req.Group = group
		m := kmsg.NewLeaveGroupRequestMember()
		m.MemberID = sd.str("member:" + who)
		if m.MemberID == "" {
			m.MemberID = "nobody"
		}
		req.Members = append(req.Members, m)
		return req
	}
}

// commit commits offset for topic/partition as who (generation -1 and no
// member when who is "").
func commit(group, who, topic string, partition int32, offset int64, meta string) func(*side) kmsg.Request {
	return func(sd *side) kmsg.Request {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.Group, req.Generation = group, -1
		if who != "" {
			req.MemberID, req.Generation = sd.str("member:"+who), sd.int32("gen")
		}
		t := kmsg.NewOffsetCommitRequestTopic()
		t.Topic, t.TopicID = topic, sd.topicID(topic)
		p := kmsg.NewOffsetCommitRequestTopicPartition()
		p.Partition, p.Offset, p.LeaderEpoch, p.Metadata = partition, offset, -1, kmsg.StringPtr(meta)
		t.Partitions = append(t.Partitions, p)
		req.Topics = append(req.Topics, t)
		return req
	}
}

func offsetFetch(group string, requireStable bool, topics ...string) func(*side) kmsg.Request {
	return func(sd *side) kmsg.Request {
		req := kmsg.NewPtrOffsetFetchRequest()
		req.Group, req.RequireStable = group, requireStable
		g := kmsg.NewOffsetFetchRequestGroup()
		g.Group = group
		for _, t := range topics {
			rt := kmsg.NewOffsetFetchRequestTopic()
			rt.Topic, rt.Partitions = t, []int32{0, 1}
			req.Topics = append(req.Topics, rt)
			gt := kmsg.NewOffsetFetchRequestGroupTopic()
			gt.Topic, gt.TopicID, gt.Partitions = t, sd.topicID(t), []int32{0, 1}
			g.Topics = append(g.Topics, gt)
		}
		if topics == nil {
			req.Topics, g.Topics = nil, nil
		}
		req.Groups = append(req.Groups, g)
		return req
	}
}

var fetchedCompare = []string{"**ErrorCode", "**Offset", "**LeaderEpoch", "**Metadata"}

func describeGroups(groups ...string) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrDescribeGroupsRequest()
		req.Groups = groups
		return req
	}
}

var describedGroupCompare = []string{"**ErrorCode", "Groups[*].State", "Groups[*].ProtocolType", "Groups[*].Protocol", "Groups[*].Members.len"}

func listGroups(states ...string) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrListGroupsRequest()
		req.StatesFilter = states
		return req
	}
}

func deleteGroups(groups ...string) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrDeleteGroupsRequest()
		req.Groups = groups
		return req
	}
}

func offsetDelete(group, topic string, partition int32) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrOffsetDeleteRequest()
		req.Group = group
		t := kmsg.NewOffsetDeleteRequestTopic()
		t.Topic = topic
		p := kmsg.NewOffsetDeleteRequestTopicPartition()
		p.Partition = partition
		t.Partitions = append(t.Partitions, p)
		req.Topics = append(req.Topics, t)
		return req
	}
}

func groupScripts() []script {
	const g = "grp-a"
	return []script{
		{name: "group-lifecycle", steps: append(newTopic(topicSpec{name: "gt-a", partitions: 2}),
			step{name: "find-coordinator", req: findCoordinator(g, 0), compare: []string{"**ErrorCode", "**NodeID"}, wait: true},
			step{name: "find-coordinator-bad-type", req: findCoordinator(g, 5), compare: []string{"**ErrorCode"}},
			step{name: "join-new-member", req: join(g, "", "consumer", 30000), compare: joinCompare, save: saveMember("a"), wait: true},
			step{name: "join-empty-group-id", req: join("", "", "consumer", 30000), compare: joinCompare},
			step{name: "join-session-too-short", req: join("grp-b", "", "consumer", 1), compare: joinCompare},
			step{name: "join-session-too-long", req: join("grp-b", "", "consumer", 1800001), compare: joinCompare},
			step{name: "join-unknown-member", req: func(sd *side) kmsg.Request {
				r := join(g, "", "consumer", 30000)(sd).(*kmsg.JoinGroupRequest)
				r.MemberID = "no-such-member"
				return r
			}, compare: joinCompare},
			step{name: "join-member", req: join(g, "a", "consumer", 30000), compare: append(joinCompare, "Members[*].ProtocolMetadata"), save: saveMember("a")},
			step{name: "join-other-protocol-type", req: join(g, "", "connect", 30000), compare: joinCompare},
			step{name: "sync-wrong-generation", req: syncGroup(g, "a", 5, true), compare: []string{"ErrorCode", "MemberAssignment"}},
			step{name: "sync-unknown-member", req: syncGroup(g, "nobody", 0, true), compare: []string{"ErrorCode", "MemberAssignment"}},
			step{name: "sync", req: syncGroup(g, "a", 0, true), compare: []string{"ErrorCode", "MemberAssignment", "Protocol", "ProtocolType"}},
			step{name: "heartbeat", req: heartbeat(g, "a", 0)},
			step{name: "heartbeat-wrong-generation", req: heartbeat(g, "a", 3)},
			step{name: "heartbeat-unknown-member", req: heartbeat(g, "nobody", 0)},
			step{name: "heartbeat-unknown-group", req: heartbeat("grp-never", "a", 0)},
			step{name: "describe", req: describeGroups(g), compare: describedGroupCompare},
			step{name: "describe-unknown", req: describeGroups("grp-never"), compare: describedGroupCompare},
			step{name: "list-stable", req: listGroups("Stable"), compare: []string{"ErrorCode", "Groups[grp-a].GroupState", "Groups[grp-a].ProtocolType"}},
			step{name: "commit-member", req: commit(g, "a", "gt-a", 0, 5, "meta")},
			step{name: "commit-simple-to-live-group", req: commit(g, "", "gt-a", 1, 3, "")},
			step{name: "commit-wrong-generation", req: func(sd *side) kmsg.Request {
				r := commit(g, "a", "gt-a", 0, 6, "")(sd).(*kmsg.OffsetCommitRequest)
				r.Generation += 4
				return r
			}},
			step{name: "commit-unknown-member", req: func(sd *side) kmsg.Request {
				r := commit(g, "a", "gt-a", 0, 6, "")(sd).(*kmsg.OffsetCommitRequest)
				r.MemberID = "nobody"
				return r
			}},
			step{name: "commit-unknown-topic", req: commit(g, "a", "gt-never", 0, 1, "")},
			step{name: "commit-metadata-too-large", req: commit(g, "a", "gt-a", 0, 7, strings.Repeat("m", 5000))},
			step{name: "fetch-offsets", req: offsetFetch(g, false, "gt-a"), compare: fetchedCompare},
			step{name: "fetch-all-offsets", req: offsetFetch(g, false), compare: fetchedCompare},
			step{name: "fetch-unknown-group", req: offsetFetch("grp-never", false, "gt-a"), compare: fetchedCompare},
			step{name: "fetch-unknown-topic", req: offsetFetch(g, false, "gt-never"), compare: fetchedCompare},
			step{name: "commit-member-v9", req: commit(g, "a", "gt-a", 1, 4, "by-name"), version: v(9)},
			step{name: "commit-unknown-topic-v9", req: commit(g, "a", "gt-never", 0, 1, ""), version: v(9)},
			step{name: "fetch-offsets-v9", req: offsetFetch(g, false, "gt-a"), version: v(9), compare: fetchedCompare},
			step{name: "fetch-all-offsets-v9", req: offsetFetch(g, false), version: v(9), compare: fetchedCompare},
			step{name: "offset-delete-subscribed", req: offsetDelete(g, "gt-a", 0)},
			step{name: "delete-live-group", req: deleteGroups(g)},
			step{name: "leave-unknown-member", req: leaveGroup(g, "nobody"), compare: []string{"**ErrorCode"}},
			step{name: "leave", req: leaveGroup(g, "a")},
			step{name: "describe-after-leave", req: describeGroups(g), compare: describedGroupCompare},
			step{name: "offset-delete", req: offsetDelete(g, "gt-a", 0)},
			step{name: "fetch-after-offset-delete", req: offsetFetch(g, false, "gt-a"), compare: fetchedCompare},
			step{name: "commit-simple", req: commit("grp-simple", "", "gt-a", 0, 2, "x")},
			step{name: "fetch-simple", req: offsetFetch("grp-simple", false, "gt-a"), compare: fetchedCompare},
			step{name: "delete-group", req: deleteGroups(g)},
			step{name: "delete-unknown-group", req: deleteGroups("grp-never"), compare: []string{"**ErrorCode", "Groups[*].ErrorMessage"}},
			step{name: "delete-group-again", req: deleteGroups(g), compare: []string{"**ErrorCode", "Groups[*].ErrorMessage"}},
			step{name: "offset-delete-unknown-group", req: offsetDelete("grp-never", "gt-a", 0)},
		)},
	}
}
