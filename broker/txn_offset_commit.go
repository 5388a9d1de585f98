package broker

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/group"
	"spool/protocol"
)

// handleTxnOffsetCommit commits offsets inside a transaction: they are
// written to the group's __consumer_offsets partition as one batch of the
// producer's transaction and become the group's committed offsets only
// when the transaction's commit marker reaches that partition. The answer
// goes out once the batch is durable.
func (b *Broker) handleTxnOffsetCommit(req *protocol.Request, respond func(protocol.Response)) {
	r := detach(req).(*kmsg.TxnOffsetCommitRequest)
	if r.Group == "" {
		// Unlike OffsetCommit, Kafka never accepted the empty group here.
		respond(protocol.Msg(group.TxnCommitError(r, kerr.InvalidGroupID)))
		return
	}
	img := b.Image()
	exists := func(topic string, partition int32) bool {
		t := img.Topics.ByName(topic)
		return t != nil && t.Partition(partition) != nil
	}
	// As for OffsetCommit, a commit without a generation may create a
	// group that only holds offsets; one naming a generation needs the
	// group to exist.
	found, err := b.groups.do(r.Group, r.Generation < 0, replyWith(respond), func(g *group.Group, id group.ReqID, now time.Time) group.Out {
		return g.TxnCommit(id, r, exists, now)
	})
	switch {
	case err != nil:
		respond(protocol.Msg(group.TxnCommitError(r, err)))
	case !found:
		respond(protocol.Msg(group.TxnCommitError(r, kerr.IllegalGeneration)))
	}
}
