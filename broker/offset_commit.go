package broker

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/group"
	"spool/protocol"
)

// handleOffsetCommit commits offsets; the answer goes out once the
// records are fsynced. As in Kafka, the empty group id is allowed here
// (old clients commit under it) and commits with generation -1 create a
// group that only holds offsets.
func (b *Broker) handleOffsetCommit(req *protocol.Request, respond func(protocol.Response)) {
	r := detach(req).(*kmsg.OffsetCommitRequest)
	img := b.Image()
	if r.Version >= 10 {
		// v10 names topics by id (KIP-848); the group keeps offsets by
		// name, and an unknown id is left "" (no topic has that name),
		// which the group answers UNKNOWN_TOPIC_ID.
		for i := range r.Topics {
			r.Topics[i].Topic = ""
			if t := img.Topics.ByID(r.Topics[i].TopicID); t != nil {
				r.Topics[i].Topic = t.Name
			}
		}
	}
	exists := func(topic string, partition int32) bool {
		t := img.Topics.ByName(topic)
		return t != nil && t.Partition(partition) != nil
	}
	found, err := b.groups.doCell(r.Group, r.Generation < 0, replyWith(respond), func(cl *cell, id group.ReqID, now time.Time) (group.Out, *kerr.Error) {
		if cl.cg == nil {
			return cl.g.Commit(id, r, exists, now), nil
		}
		// A consumer group's members commit with their member epoch.
		if err := cl.cg.ValidateCommit(r.MemberID, r.Generation, false, r.Version); err != nil {
			return group.Out{}, err
		}
		return cl.g.CommitChecked(id, r, exists, now), nil
	})
	switch {
	case err != nil:
		respond(protocol.Msg(group.CommitError(r, err)))
	case !found:
		respond(protocol.Msg(group.CommitToUnknownGroup(r)))
	}
}
