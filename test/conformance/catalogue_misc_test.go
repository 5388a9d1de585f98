package conformance

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

func apiVersionsReq(software string) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrApiVersionsRequest()
		req.ClientSoftwareName, req.ClientSoftwareVersion = software, "1.0"
		return req
	}
}

func electLeaders(typ int8, topic string, partition int32) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrElectLeadersRequest()
		req.ElectionType, req.TimeoutMillis = typ, 30000
		t := kmsg.NewElectLeadersRequestTopic()
		t.Topic, t.Partitions = topic, []int32{partition}
		req.Topics = append(req.Topics, t)
		return req
	}
}

func describeLogDirs(topic string) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrDescribeLogDirsRequest()
		t := kmsg.NewDescribeLogDirsRequestTopic()
		t.Topic, t.Partitions = topic, []int32{0}
		req.Topics = append(req.Topics, t)
		return req
	}
}

func miscScripts() []script {
	return []script{
		{name: "api-versions", steps: []step{
			{name: "v0", req: apiVersionsReq(""), version: v(0)},
			{name: "v3", req: apiVersionsReq("conformance"), version: v(3)},
			{name: "bad-software-name", req: apiVersionsReq("bad name!"), version: v(3)},
		}},
		{name: "cluster", steps: append(newTopic(topicSpec{name: "cl-a"}),
			step{name: "describe-cluster", req: func(*side) kmsg.Request { return kmsg.NewPtrDescribeClusterRequest() },
				compare: []string{"ErrorCode", "Brokers.len", "Brokers[*].NodeID", "Brokers[*].Rack", "ControllerID", "EndpointType"}},
			step{name: "describe-cluster-controllers", req: func(*side) kmsg.Request {
				r := kmsg.NewPtrDescribeClusterRequest()
				r.EndpointType = 2
				return r
			}, compare: []string{"ErrorCode"}},
			step{name: "elect-preferred", req: electLeaders(0, "cl-a", 0), compare: []string{"**ErrorCode"}},
			step{name: "elect-unclean", req: electLeaders(1, "cl-a", 0), compare: []string{"**ErrorCode"}},
			step{name: "elect-unknown-topic", req: electLeaders(0, "cl-never", 0), compare: []string{"**ErrorCode"}},
			step{name: "elect-unknown-partition", req: electLeaders(0, "cl-a", 4), compare: []string{"**ErrorCode"}},
			step{name: "log-dirs", req: describeLogDirs("cl-a"), compare: []string{"**ErrorCode", "Dirs.len", "Dirs[*].Topics[*].Partitions[*].OffsetLag", "Dirs[*].Topics[*].Partitions[*].IsFuture"}},
			step{name: "log-dirs-unknown-topic", req: describeLogDirs("cl-never"), compare: []string{"**ErrorCode", "Dirs.len", "Dirs[*].Topics.len"}},
			step{name: "describe-producers-unknown", req: describeProducers("cl-never", 0), compare: []string{"**ErrorCode"}},
			step{name: "describe-producers-none", req: describeProducers("cl-a", 0), compare: []string{"**ErrorCode", "**ActiveProducers.len"}},
		)},
	}
}
