package authz

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Every request a guard may refuse has an answer (nil would close the
// connection instead of telling the client why).
func TestRefusalsCoverGuardedAPIs(t *testing.T) {
	for _, req := range []kmsg.Request{
		kmsg.NewPtrCreateTopicsRequest(), kmsg.NewPtrDeleteTopicsRequest(), kmsg.NewPtrCreatePartitionsRequest(),
		kmsg.NewPtrAlterConfigsRequest(), kmsg.NewPtrIncrementalAlterConfigsRequest(), kmsg.NewPtrAlterUserSCRAMCredentialsRequest(),
		kmsg.NewPtrFetchRequest(), kmsg.NewPtrFetchSnapshotRequest(), kmsg.NewPtrElectLeadersRequest(),
		kmsg.NewPtrDescribeUserSCRAMCredentialsRequest(), kmsg.NewPtrDescribeQuorumRequest(), kmsg.NewPtrAlterPartitionRequest(),
		kmsg.NewPtrBrokerRegistrationRequest(), kmsg.NewPtrBrokerHeartbeatRequest(), kmsg.NewPtrAllocateProducerIDsRequest(),
		kmsg.NewPtrDescribeClusterRequest(), kmsg.NewPtrAlterPartitionAssignmentsRequest(), kmsg.NewPtrListPartitionReassignmentsRequest(),
	} {
		if Refuse(req) == nil {
			t.Errorf("no refusal for %s", kmsg.NameForKey(req.Key()))
		}
	}
	for _, req := range []kmsg.Request{
		kmsg.NewPtrProduceRequest(), kmsg.NewPtrListOffsetsRequest(), kmsg.NewPtrOffsetCommitRequest(), kmsg.NewPtrTxnOffsetCommitRequest(),
		kmsg.NewPtrDeleteRecordsRequest(), kmsg.NewPtrOffsetForLeaderEpochRequest(), kmsg.NewPtrDescribeProducersRequest(),
		kmsg.NewPtrAddPartitionsToTxnRequest(), kmsg.NewPtrJoinGroupRequest(), kmsg.NewPtrSyncGroupRequest(), kmsg.NewPtrHeartbeatRequest(),
		kmsg.NewPtrLeaveGroupRequest(), kmsg.NewPtrInitProducerIDRequest(), kmsg.NewPtrAddOffsetsToTxnRequest(), kmsg.NewPtrEndTxnRequest(),
		kmsg.NewPtrOffsetDeleteRequest(), kmsg.NewPtrDescribeLogDirsRequest(),
	} {
		if RefuseCode(req, 29) == nil {
			t.Errorf("no refusal for %s", kmsg.NameForKey(req.Key()))
		}
	}
	p := kmsg.NewPtrProduceRequest()
	pt := kmsg.NewProduceRequestTopic()
	pt.Topic = "t"
	pt.Partitions = []kmsg.ProduceRequestTopicPartition{kmsg.NewProduceRequestTopicPartition()}
	p.Topics = append(p.Topics, pt)
	if got := RefuseCode(p, 29).(*kmsg.ProduceResponse); got.Topics[0].Partitions[0].ErrorCode != 29 {
		t.Fatalf("produce refusal %+v", got)
	}
}
