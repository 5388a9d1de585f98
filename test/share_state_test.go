package test

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

func shareStateRequest(t *testing.T, addr string, req kmsg.Request) kmsg.Response {
	t.Helper()
	raw, err := harness.Request(addr, req, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestShareGroupStateAPIs: the share coordinator's state APIs on the
// partition's leader: initialize a share-partition, write acknowledged
// and redelivered batches, read them back (whole and summary), refuse an
// older state epoch, and delete the state.
func TestShareGroupStateAPIs(t *testing.T) {
	t.Parallel()
	n := shareNode(t, nil)
	grpTopic(t, n.Addr, "ss", 1)
	grpProduce(t, n.Addr, "ss", 20)
	topics, err := admin(t, n.Addr).ListTopics(ctxT(t, time.Minute), "ss")
	if err != nil {
		t.Fatal(err)
	}
	id := [16]byte(topics["ss"].ID)

	ini := kmsg.NewPtrInitializeShareGroupStateRequest()
	ini.GroupID = "sgs"
	it := kmsg.NewInitializeShareGroupStateRequestTopic()
	it.TopicID = id
	ip := kmsg.NewInitializeShareGroupStateRequestTopicPartition()
	ip.StateEpoch, ip.StartOffset = 1, 5
	it.Partitions = append(it.Partitions, ip)
	ini.Topics = append(ini.Topics, it)
	if code := shareStateRequest(t, n.Addr, ini).(*kmsg.InitializeShareGroupStateResponse).Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("initialize: %v", kerr.ErrorForCode(code))
	}

	write := func(epoch int32, batches ...kmsg.WriteShareGroupStateRequestTopicPartitionStateBatch) int16 {
		req := kmsg.NewPtrWriteShareGroupStateRequest()
		req.SetVersion(1)
		req.GroupID = "sgs"
		wt := kmsg.NewWriteShareGroupStateRequestTopic()
		wt.TopicID = id
		wp := kmsg.NewWriteShareGroupStateRequestTopicPartition()
		wp.StateEpoch, wp.StartOffset, wp.StateBatches = epoch, -1, batches
		wt.Partitions = append(wt.Partitions, wp)
		req.Topics = append(req.Topics, wt)
		return shareStateRequest(t, n.Addr, req).(*kmsg.WriteShareGroupStateResponse).Topics[0].Partitions[0].ErrorCode
	}
	batch := func(first, last int64, state int8, count int16) kmsg.WriteShareGroupStateRequestTopicPartitionStateBatch {
		b := kmsg.NewWriteShareGroupStateRequestTopicPartitionStateBatch()
		b.FirstOffset, b.LastOffset, b.DeliveryState, b.DeliveryCount = first, last, state, count
		return b
	}
	if code := write(1, batch(5, 7, 2, 1), batch(8, 9, 0, 2)); code != 0 {
		t.Fatalf("write: %v", kerr.ErrorForCode(code))
	}
	if code := write(0, batch(8, 8, 2, 1)); code != kerr.FencedStateEpoch.Code {
		t.Fatalf("write of an older epoch: %v, want FENCED_STATE_EPOCH", kerr.ErrorForCode(code))
	}

	read := kmsg.NewPtrReadShareGroupStateRequest()
	read.GroupID = "sgs"
	rt := kmsg.NewReadShareGroupStateRequestTopic()
	rt.TopicID = id
	rt.Partitions = append(rt.Partitions, kmsg.NewReadShareGroupStateRequestTopicPartition())
	read.Topics = append(read.Topics, rt)
	rp := shareStateRequest(t, n.Addr, read).(*kmsg.ReadShareGroupStateResponse).Topics[0].Partitions[0]
	if rp.ErrorCode != 0 || rp.StateEpoch != 1 || rp.StartOffset != 8 || len(rp.StateBatches) != 1 ||
		rp.StateBatches[0].FirstOffset != 8 || rp.StateBatches[0].LastOffset != 9 || rp.StateBatches[0].DeliveryCount != 2 {
		t.Fatalf("read: %+v", rp)
	}

	summary := func() kmsg.ReadShareGroupStateSummaryResponseTopicPartition {
		req := kmsg.NewPtrReadShareGroupStateSummaryRequest()
		req.SetVersion(1)
		req.GroupID = "sgs"
		st := kmsg.NewReadShareGroupStateSummaryRequestTopic()
		st.TopicID = id
		st.Partitions = append(st.Partitions, kmsg.NewReadShareGroupStateSummaryRequestTopicPartition())
		req.Topics = append(req.Topics, st)
		return shareStateRequest(t, n.Addr, req).(*kmsg.ReadShareGroupStateSummaryResponse).Topics[0].Partitions[0]
	}
	if s := summary(); s.ErrorCode != 0 || s.StartOffset != 8 || s.StateEpoch != 1 || s.LeaderEpoch < 0 {
		t.Fatalf("summary: %+v", s)
	}

	del := kmsg.NewPtrDeleteShareGroupStateRequest()
	del.GroupID = "sgs"
	dt := kmsg.NewDeleteShareGroupStateRequestTopic()
	dt.TopicID = id
	dt.Partitions = append(dt.Partitions, kmsg.NewDeleteShareGroupStateRequestTopicPartition())
	del.Topics = append(del.Topics, dt)
	if code := shareStateRequest(t, n.Addr, del).(*kmsg.DeleteShareGroupStateResponse).Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("delete: %v", kerr.ErrorForCode(code))
	}
	if s := summary(); s.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("summary after delete: %+v", s)
	}
}

// TestShareCoordinatorKey: FindCoordinator with the share key type names
// the partition's leader; a malformed key is INVALID_REQUEST.
func TestShareCoordinatorKey(t *testing.T) {
	t.Parallel()
	n := shareNode(t, nil)
	grpTopic(t, n.Addr, "sk2", 1)
	topics, err := admin(t, n.Addr).ListTopics(ctxT(t, time.Minute), "sk2")
	if err != nil {
		t.Fatal(err)
	}
	id := [16]byte(topics["sk2"].ID)
	req := kmsg.NewPtrFindCoordinatorRequest()
	req.SetVersion(6)
	req.CoordinatorType = 2
	req.CoordinatorKeys = []string{"g:a:" + base64.RawURLEncoding.EncodeToString(id[:]) + ":0", "nonsense"}
	resp := shareStateRequest(t, n.Addr, req).(*kmsg.FindCoordinatorResponse)
	if c := resp.Coordinators[0]; c.ErrorCode != 0 || c.NodeID != 1 {
		t.Fatalf("share key: %+v", c)
	}
	if c := resp.Coordinators[1]; c.ErrorCode != kerr.InvalidRequest.Code {
		t.Fatalf("malformed share key: %+v", c)
	}
}
