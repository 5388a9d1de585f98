package controller

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

// threeReplicaImage: brokers 1-3 (3 fenced when fenced3), one partition
// led by 1 with replicas 1,2,3, ISR 1,2, leader epoch 4, partition epoch 7.
func threeReplicaImage(t *testing.T, fenced3 bool) (*metadata.Image, *metadata.Topic) {
	t.Helper()
	d := metadata.NewDelta(metadata.Empty())
	for _, id := range []int32{1, 2, 3} {
		d.Replay(&metadata.RegisterBrokerRecord{BrokerID: id, BrokerEpoch: int64(10 + id), Fenced: id == 3 && fenced3})
	}
	id := [16]byte{7}
	d.Replay(&metadata.TopicRecord{Name: "t", TopicID: id})
	d.Replay(&metadata.PartitionRecord{PartitionID: 0, TopicID: id, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2}, Leader: 1, LeaderEpoch: 4, PartitionEpoch: 7})
	img := d.Apply()
	return img, img.Topics.ByID(id)
}

func TestAlterPartitionChecks(t *testing.T) {
	cases := []struct {
		name      string
		fenced3   bool
		broker    int32
		epoch     int32
		partEpoch int32
		isr       []int32
		want      *kerr.Error
	}{
		{"expand", false, 1, 4, 7, []int32{1, 2, 3}, nil},
		{"shrink", false, 1, 4, 7, []int32{1}, nil},
		{"old leader epoch", false, 1, 3, 7, []int32{1}, kerr.FencedLeaderEpoch},
		{"not the leader", false, 2, 4, 7, []int32{1, 2}, kerr.InvalidRequest},
		{"stale partition epoch", false, 1, 4, 6, []int32{1}, kerr.InvalidUpdateVersion},
		{"leader not in isr", false, 1, 4, 7, []int32{2}, kerr.InvalidRequest},
		{"not a replica", false, 1, 4, 7, []int32{1, 9}, kerr.InvalidRequest},
		{"fenced member", true, 1, 4, 7, []int32{1, 2, 3}, kerr.IneligibleReplica},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img, topic := threeReplicaImage(t, tc.fenced3)
			req := kmsg.NewPtrAlterPartitionRequest()
			req.SetVersion(2)
			req.BrokerID, req.BrokerEpoch = tc.broker, int64(10+tc.broker)
			p := kmsg.NewAlterPartitionRequestTopicPartition()
			p.LeaderEpoch, p.PartitionEpoch, p.NewISR = tc.epoch, tc.partEpoch, tc.isr
			rp, rec := alterOne(img, topic, req, &p)
			if tc.want != nil {
				if rp.ErrorCode != tc.want.Code || rec != nil {
					t.Fatalf("error %d, want %v", rp.ErrorCode, tc.want)
				}
				return
			}
			if rp.ErrorCode != 0 || rec == nil || rp.PartitionEpoch != 8 || rp.LeaderEpoch != 4 {
				t.Fatalf("resp %+v rec %v", rp, rec)
			}
			d := metadata.NewDelta(img)
			if err := d.Replay(rec); err != nil {
				t.Fatal(err)
			}
			got := d.Apply().Topics.ByID(topic.ID).Partitions[0]
			if got.PartitionEpoch != 8 || got.LeaderEpoch != 4 || len(got.ISR) != len(tc.isr) {
				t.Fatalf("after apply: %+v", got)
			}
		})
	}
}

func TestElectPreferredAndUnclean(t *testing.T) {
	img, topic := threeReplicaImage(t, false)
	p := topic.Partitions[0]
	if _, e := elect(img, topic, p, electPreferred); e != kerr.ElectionNotNeeded {
		t.Fatalf("preferred already leads: %v", e)
	}
	if _, e := elect(img, topic, p, electUnclean); e != kerr.ElectionNotNeeded {
		t.Fatalf("unclean with a leader: %v", e)
	}
	// Leadership on 2; preferred 1 is in sync: electable.
	d := metadata.NewDelta(img)
	pc := metadata.NewPartitionChangeRecord(topic.ID, 0)
	pc.Leader = 2
	d.Replay(pc)
	img2 := d.Apply()
	topic2 := img2.Topics.ByID(topic.ID)
	rec, e := elect(img2, topic2, topic2.Partitions[0], electPreferred)
	if e != nil || rec.(*metadata.PartitionChangeRecord).Leader != 1 {
		t.Fatalf("preferred election: %v %v", rec, e)
	}
	// Leaderless with the ISR gone: only an unclean election helps.
	d = metadata.NewDelta(img2)
	pc = metadata.NewPartitionChangeRecord(topic.ID, 0)
	pc.Leader, pc.ISR = metadata.NoLeader, []int32{3}
	d.Replay(pc)
	d.Replay(&metadata.BrokerRegistrationChangeRecord{BrokerID: 3, BrokerEpoch: 13, Fenced: metadata.FenceChangeFence})
	img3 := d.Apply()
	topic3 := img3.Topics.ByID(topic.ID)
	if _, e := elect(img3, topic3, topic3.Partitions[0], electPreferred); e != kerr.PreferredLeaderNotAvailable {
		t.Fatalf("preferred not in isr: %v", e)
	}
	rec, e = elect(img3, topic3, topic3.Partitions[0], electUnclean)
	if e != nil || rec.(*metadata.PartitionChangeRecord).Leader != 1 {
		t.Fatalf("unclean election: %v %v", rec, e)
	}
}
