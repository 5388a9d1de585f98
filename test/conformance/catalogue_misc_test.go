package conformance

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func apiVersionsReq(software string) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrApiVersionsRequest()
		req.ClientSoftwareName, req.ClientSoftwareVersion = software, "1.0"
		return req
	}
}

// apiVersionsTarget is ApiVersions v5 naming a cluster and node (KIP-1242):
// the server's own (saved by saveIdentity) unless wrongCluster or
// wrongNode, and nil / -1 where omitted.
func apiVersionsTarget(cluster, node, wrongCluster, wrongNode bool) func(*side) kmsg.Request {
	return func(sd *side) kmsg.Request {
		req := apiVersionsReq("conformance")(sd).(*kmsg.ApiVersionsRequest)
		if cluster {
			id := sd.str("cluster-id")
			if wrongCluster {
				id = "AAAAAAAAAAAAAAAAAAAAAA"
			}
			req.ClusterID = &id
		}
		if node {
			req.NodeID = sd.int32("node-id")
			if wrongNode {
				req.NodeID += 100
			}
		}
		return req
	}
}

// saveIdentity keeps the cluster id and a broker's node id from Metadata.
func saveIdentity(sd *side, r kmsg.Response) {
	m := r.(*kmsg.MetadataResponse)
	if m.ClusterID != nil {
		sd.vars["cluster-id"] = *m.ClusterID
	}
	if len(m.Brokers) > 0 {
		sd.vars["node-id"] = m.Brokers[0].NodeID
	}
}

// tableOnlyWithoutError holds an ApiVersions answer to Kafka's shape: the
// table with success, nothing with an error.
func tableOnlyWithoutError(r kmsg.Response) error {
	a := r.(*kmsg.ApiVersionsResponse)
	if (a.ErrorCode == 0) != (len(a.ApiKeys) > 0) {
		return fmt.Errorf("error %d with %d api keys", a.ErrorCode, len(a.ApiKeys))
	}
	return nil
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
			{name: "setup-identity", setup: true, save: saveIdentity, req: func(*side) kmsg.Request { return kmsg.NewPtrMetadataRequest() }},
			{name: "v5-this-node", req: apiVersionsTarget(true, true, false, false), version: v(5), check: tableOnlyWithoutError},
			{name: "v5-no-target", req: apiVersionsTarget(false, false, false, false), version: v(5), check: tableOnlyWithoutError},
			{name: "v5-other-cluster", req: apiVersionsTarget(true, true, true, false), version: v(5), check: tableOnlyWithoutError},
			{name: "v5-other-node", req: apiVersionsTarget(true, true, false, true), version: v(5), check: tableOnlyWithoutError},
			{name: "v5-cluster-only", req: apiVersionsTarget(true, false, false, false), version: v(5), check: tableOnlyWithoutError},
			{name: "v5-node-only", req: apiVersionsTarget(false, true, false, false), version: v(5), check: tableOnlyWithoutError},
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
			step{name: "log-dirs", req: describeLogDirs("cl-a"), compare: []string{"**ErrorCode", "Dirs.len", "Dirs[*].Topics[*].Partitions[*].OffsetLag", "Dirs[*].Topics[*].Partitions[*].IsFuture", "Dirs[*].IsCordoned"}},
			step{name: "log-dirs-unknown-topic", req: describeLogDirs("cl-never"), compare: []string{"**ErrorCode", "Dirs.len", "Dirs[*].Topics.len"}},
			step{name: "describe-producers-unknown", req: describeProducers("cl-never", 0), compare: []string{"**ErrorCode"}},
			step{name: "describe-producers-none", req: describeProducers("cl-a", 0), compare: []string{"**ErrorCode", "**ActiveProducers.len"}},
		)},
	}
}
