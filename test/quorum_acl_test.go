package test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func describeQuorumAs(ctx context.Context, cl *kgo.Client) (*kmsg.DescribeQuorumResponse, error) {
	req := kmsg.NewPtrDescribeQuorumRequest()
	rt := kmsg.NewDescribeQuorumRequestTopic()
	rt.Topic = "__cluster_metadata"
	rt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{kmsg.NewDescribeQuorumRequestTopicPartition()}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	return resp, err
}

// DescribeQuorum on the client listener is forwarded to the controller;
// with an authorizer it needs DESCRIBE on the cluster, which the broker
// checks for the client's principal (the controller sees only the broker).
func TestDescribeQuorumNeedsDescribeOnCluster(t *testing.T) {
	n := aclNode(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adminCl := aclClient(t, n.Addr, "admin")
	aliceCl := aclClient(t, n.Addr, "alice")

	resp, err := describeQuorumAs(ctx, adminCl)
	if err != nil || resp.ErrorCode != 0 || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("admin's DescribeQuorum: %v %+v", err, resp)
	}
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != 0 || p.LeaderID != 1 || len(p.CurrentVoters) != 1 || p.HighWatermark <= 0 {
		t.Fatalf("quorum of one voter (node 1) with a high watermark, got %+v", p)
	}

	resp, err = describeQuorumAs(ctx, aliceCl)
	if err != nil || resp.ErrorCode != kerr.ClusterAuthorizationFailed.Code {
		t.Fatalf("alice without DESCRIBE on the cluster: %v, code %v; want CLUSTER_AUTHORIZATION_FAILED", err, resp)
	}
	b := kadm.NewACLs().Allow("User:alice").Clusters().ResourcePatternType(kadm.ACLPatternLiteral).
		Operations(kadm.OpDescribe).AllowHosts("*")
	if res, err := kadm.NewClient(adminCl).CreateACLs(ctx, b); err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("grant alice DESCRIBE on the cluster: %v %+v", err, res)
	}
	for {
		resp, err = describeQuorumAs(ctx, aliceCl)
		if err == nil && resp.ErrorCode == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("alice with DESCRIBE on the cluster: %v %+v", err, resp)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
