package controller

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"spool/controller/metadata"
)

func reassignImage(t *testing.T) (*metadata.Image, *metadata.Topic) {
	t.Helper()
	d := metadata.NewDelta(metadata.Empty())
	for _, id := range []int32{1, 2, 3, 4} {
		d.Replay(&metadata.RegisterBrokerRecord{BrokerID: id, BrokerEpoch: int64(id)})
	}
	d.Replay(&metadata.TopicRecord{Name: "t", TopicID: [16]byte{1}})
	d.Replay(&metadata.PartitionRecord{PartitionID: 0, TopicID: [16]byte{1}, Replicas: []int32{1, 2}, ISR: []int32{1, 2}, Leader: 1})
	img := d.Apply()
	return img, img.Topics.ByName("t")
}

// Moving [1,2] to [3,4]: both are added, both old ones marked removing;
// the ISR change that brings 3 and 4 in completes it, moving leadership
// off 1; cancelling instead restores [1,2].
func TestReassignLifecycle(t *testing.T) {
	img, topic := reassignImage(t)
	rec, e := reassignOne(img, topic, 0, []int32{3, 4}, true)
	if e != nil {
		t.Fatal(e.msg)
	}
	img = applyUnclean(t, img, []metadata.Record{rec})
	p := img.Topics.ByName("t").Partitions[0]
	if !slices.Equal(p.Replicas, []int32{3, 4, 1, 2}) || !slices.Equal(p.AddingReplicas, []int32{3, 4}) || !slices.Equal(p.RemovingReplicas, []int32{1, 2}) || p.Leader != 1 {
		t.Fatalf("started: %+v", p)
	}

	// Cancelling goes back to the original replicas.
	cancel, e := reassignOne(img, img.Topics.ByName("t"), 0, nil, true)
	if e != nil {
		t.Fatal(e.msg)
	}
	back := applyUnclean(t, img, []metadata.Record{cancel}).Topics.ByName("t").Partitions[0]
	if !slices.Equal(back.Replicas, []int32{1, 2}) || back.AddingReplicas != nil || back.RemovingReplicas != nil || back.Leader != 1 {
		t.Fatalf("cancelled: %+v", back)
	}
	cancelled := applyUnclean(t, img, []metadata.Record{cancel})
	if _, e := reassignOne(cancelled, cancelled.Topics.ByName("t"), 0, nil, true); e == nil || e.err != kerr.NoReassignmentInProgress {
		t.Fatalf("cancelling nothing: %v", e)
	}

	// 3 joins: not complete yet. 4 joins too: complete.
	topic = img.Topics.ByName("t")
	pc := metadata.NewPartitionChangeRecord(topic.ID, 0)
	pc.ISR = []int32{1, 2, 3}
	reassignCompletion(img, topic, p, pc)
	if pc.Replicas != nil || pc.Leader != metadata.NoLeaderChange {
		t.Fatalf("completed early: %+v", pc)
	}
	pc.ISR = []int32{1, 2, 3, 4}
	reassignCompletion(img, topic, p, pc)
	done := applyUnclean(t, img, []metadata.Record{pc}).Topics.ByName("t").Partitions[0]
	if !slices.Equal(done.Replicas, []int32{3, 4}) || !slices.Equal(done.ISR, []int32{3, 4}) || done.Leader != 3 || done.AddingReplicas != nil || done.RemovingReplicas != nil {
		t.Fatalf("completed: %+v", done)
	}
}

func TestReassignRefusals(t *testing.T) {
	img, topic := reassignImage(t)
	for _, c := range []struct {
		target  []int32
		allowRF bool
		want    *kerr.Error
	}{
		{[]int32{}, true, kerr.InvalidReplicaAssignment},
		{[]int32{3, 3}, true, kerr.InvalidReplicaAssignment},
		{[]int32{3, 9}, true, kerr.InvalidReplicaAssignment},
		{[]int32{1, 2, 3}, false, kerr.InvalidReplicationFactor},
	} {
		if _, e := reassignOne(img, topic, 0, c.target, c.allowRF); e == nil || e.err != c.want {
			t.Fatalf("target %v: got %v, want %v", c.target, e, c.want)
		}
	}
	if _, e := reassignOne(img, topic, 5, []int32{1}, true); e == nil || e.err != kerr.UnknownTopicOrPartition {
		t.Fatalf("unknown partition: %v", e)
	}
	// Shrinking within the ISR completes at once.
	rec, e := reassignOne(img, topic, 0, []int32{2}, true)
	if e != nil {
		t.Fatal(e.msg)
	}
	p := applyUnclean(t, img, []metadata.Record{rec}).Topics.ByName("t").Partitions[0]
	if !slices.Equal(p.Replicas, []int32{2}) || !slices.Equal(p.ISR, []int32{2}) || p.Leader != 2 {
		t.Fatalf("shrunk: %+v", p)
	}
}
