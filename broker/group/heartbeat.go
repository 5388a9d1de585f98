package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Heartbeat keeps a member's session alive and tells it whether a
// rebalance is under way.
func (g *Group) Heartbeat(id ReqID, r *kmsg.HeartbeatRequest, now time.Time) Out {
	var out Out
	resp := kmsg.NewPtrHeartbeatResponse()
	resp.SetVersion(r.Version)
	out.reply(id, resp)
	if g.state == Dead {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return out
	}
	if err := g.validateMember(r.MemberID, r.InstanceID); err != nil {
		resp.ErrorCode = err.Code
		return out
	}
	if r.Generation != g.generation {
		resp.ErrorCode = kerr.IllegalGeneration.Code
		return out
	}
	g.touch(&out, g.members[r.MemberID], now)
	if g.state == PreparingRebalance {
		resp.ErrorCode = kerr.RebalanceInProgress.Code
	}
	return out
}
