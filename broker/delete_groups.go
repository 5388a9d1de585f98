package broker

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/group"
	"spool/protocol"
)

// handleDeleteGroups deletes empty groups with their offsets; each answer
// waits for its tombstones to be durable.
func (b *Broker) handleDeleteGroups(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.DeleteGroupsRequest)
	resp := r.ResponseKind().(*kmsg.DeleteGroupsResponse)
	codes := make([]chan int16, len(r.Groups))
	for i, id := range r.Groups {
		ch := make(chan int16, 1)
		codes[i] = ch
		found, err := b.groups.doCell(id, false, func(rep group.Reply) { ch <- rep.Code }, func(cl *cell, rid group.ReqID, now time.Time) (group.Out, *kerr.Error) {
			if cl.cg != nil {
				if err := cl.cg.ValidateDelete(); err != nil {
					return group.Out{}, err
				}
				b.groups.send(b.groups.endConsumerGroup(cl))
			}
			return cl.g.Delete(rid, now), nil
		})
		switch {
		case err != nil:
			ch <- err.Code
		case !found:
			ch <- b.shares.deleteGroup(id)
		}
	}
	for i, id := range r.Groups {
		rg := kmsg.NewDeleteGroupsResponseGroup()
		rg.Group = id
		select {
		case rg.ErrorCode = <-codes[i]:
		case <-ctx.Done():
			rg.ErrorCode = kerr.RequestTimedOut.Code
		}
		resp.Groups = append(resp.Groups, rg)
	}
	return protocol.Msg(resp)
}
