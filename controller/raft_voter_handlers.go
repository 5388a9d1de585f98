package controller

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/protocol"
)

// The controller listener's KIP-853 APIs; raft_voters.go does the work.

func (c *Controller) serveAddRaftVoter(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.AddRaftVoterRequest)
	resp := r.ResponseKind().(*kmsg.AddRaftVoterResponse)
	m := Member{ID: r.VoterID, DirectoryID: metadata.DirIDString(r.VoterDirectoryID)}
	for _, l := range r.Listeners {
		m.Endpoints = append(m.Endpoints, Endpoint{Name: l.Name, Host: l.Host, Port: int(l.Port)})
	}
	// The change must end (or be undone) before the handler's own
	// deadline, so the answer says what happened.
	timeout := min(max(time.Duration(r.TimeoutMillis)*time.Millisecond, time.Second), requestTimeout-2*time.Second)
	err := c.AddVoter(ctx, r.ClusterID, m, timeout)
	resp.ErrorCode, resp.ErrorMessage = errorCode(err), errorMessage(err)
	return protocol.Msg(resp)
}

func (c *Controller) serveRemoveRaftVoter(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.RemoveRaftVoterRequest)
	resp := r.ResponseKind().(*kmsg.RemoveRaftVoterResponse)
	err := c.RemoveVoter(ctx, r.ClusterID, r.VoterID, r.VoterDirectoryID)
	resp.ErrorCode, resp.ErrorMessage = errorCode(err), errorMessage(err)
	return protocol.Msg(resp)
}

func (c *Controller) serveUpdateRaftVoter(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.UpdateRaftVoterRequest)
	resp := r.ResponseKind().(*kmsg.UpdateRaftVoterResponse)
	m := Member{ID: r.VoterID, DirectoryID: metadata.DirIDString(r.VoterDirectoryID)}
	for _, l := range r.Listeners {
		m.Endpoints = append(m.Endpoints, Endpoint{Name: l.Name, Host: l.Host, Port: int(l.Port)})
	}
	err := c.UpdateVoter(ctx, r.ClusterID, m)
	resp.ErrorCode = errorCode(err)
	resp.CurrentLeader.LeaderID, resp.CurrentLeader.LeaderEpoch = c.LeaderID(), c.Epoch()
	if v := c.view.Load(); v != nil {
		if lm, ok := v.members[c.LeaderID()]; ok {
			e := lm.EndpointFor(c.listenerName())
			resp.CurrentLeader.Host, resp.CurrentLeader.Port = e.Host, int32(e.Port)
		}
	}
	return protocol.Msg(resp)
}

// errorMessage is err's text without the Kafka error's own name and
// description, which the client prints from the code anyway.
func errorMessage(err error) *string {
	if err == nil {
		return nil
	}
	s := err.Error()
	var ke *kerr.Error
	if errors.As(err, &ke) {
		s = strings.TrimPrefix(s, ke.Error()+": ")
	}
	return &s
}
