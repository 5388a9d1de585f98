package controller

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

// A broker shutting down keeps heartbeating as usual until it stops. Once
// its controlled shutdown began, those heartbeats must not unfence it: an
// unfenced broker in controlled shutdown was handed leadership of
// leaderless partitions it is in the ISR of, and any leader asking to
// take it into an ISR was refused with INELIGIBLE_REPLICA. Only its next
// registration serves again.
func TestControlledShutdownStaysFenced(t *testing.T) {
	img, topic := threeReplicaImage(t, false)
	shutdown := kmsg.NewPtrBrokerHeartbeatRequest()
	shutdown.BrokerID, shutdown.BrokerEpoch, shutdown.WantShutdown = 2, 12, true
	recs, fenced, stop := heartbeatChange(img, img.Brokers[2], shutdown, true)
	if !fenced || !stop {
		t.Fatalf("shutdown heartbeat: fenced %v, may stop %v", fenced, stop)
	}
	img = applyRecs(t, img, recs)
	if b := img.Brokers[2]; !b.Fenced || !b.InControlledShutdown {
		t.Fatalf("after the shutdown heartbeat broker 2 is %+v", b)
	}
	if isr := img.Topics.ByID(topic.ID).Partition(0).ISR; slices.Contains(isr, 2) {
		t.Fatalf("broker 2 still in the ISR %v", isr)
	}
	plain := kmsg.NewPtrBrokerHeartbeatRequest()
	plain.BrokerID, plain.BrokerEpoch = 2, 12
	recs, fenced, stop = heartbeatChange(img, img.Brokers[2], plain, true)
	if len(recs) != 0 || !fenced || stop {
		t.Fatalf("ordinary heartbeat during controlled shutdown: %d records, fenced %v, may stop %v", len(recs), fenced, stop)
	}
	// A leader asking for it is refused, as before; a new registration
	// (its restart) is eligible once unfenced.
	req := kmsg.NewPtrAlterPartitionRequest()
	req.SetVersion(2)
	req.BrokerID, req.BrokerEpoch = 1, 11
	p := kmsg.NewAlterPartitionRequestTopicPartition()
	part := img.Topics.ByID(topic.ID).Partition(0)
	p.LeaderEpoch, p.PartitionEpoch, p.NewISR = part.LeaderEpoch, part.PartitionEpoch, []int32{1, 2}
	if rp, _ := alterOne(img, img.Topics.ByID(topic.ID), req, &p); rp.ErrorCode != kerr.IneligibleReplica.Code {
		t.Fatalf("expansion to a broker in controlled shutdown: error %d", rp.ErrorCode)
	}
	img = applyRecs(t, img, []metadata.Record{&metadata.RegisterBrokerRecord{BrokerID: 2, BrokerEpoch: 20, Fenced: true}})
	plain.BrokerEpoch = 20
	recs, fenced, _ = heartbeatChange(img, img.Brokers[2], plain, true)
	if fenced || len(recs) == 0 {
		t.Fatalf("restarted broker not unfenced: fenced %v, %d records", fenced, len(recs))
	}
	img = applyRecs(t, img, recs)
	if rp, _ := alterOne(img, img.Topics.ByID(topic.ID), req, &p); rp.ErrorCode != 0 {
		t.Fatalf("expansion to the restarted, unfenced broker: error %d", rp.ErrorCode)
	}
}
