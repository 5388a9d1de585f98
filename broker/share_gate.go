package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// shareEnabled reports whether share.version is finalized at 1 or above:
// the feature turns share groups on, cluster-wide, as in Kafka 4.1+.
func (b *Broker) shareEnabled() bool {
	return b.Image().Features[shareVersionFeature] >= 1
}

// shareGate answers the share-group APIs with UNSUPPORTED_VERSION while
// share groups are off.
func (b *Broker) shareGate(serve protocol.ServeFunc) protocol.ServeFunc {
	return func(req *protocol.Request, respond func(protocol.Response)) {
		if b.shareEnabled() {
			serve(req, respond)
			return
		}
		respond(protocol.Msg(shareDisabled(req.Msg)))
	}
}

const shareDisabledMsg = "Share groups are disabled: share.version is not finalized at level 1 or above."

func shareDisabled(m kmsg.Request) kmsg.Response {
	code, msg := kerr.UnsupportedVersion.Code, kmsg.StringPtr(shareDisabledMsg)
	switch r := m.(type) {
	case *kmsg.ShareGroupHeartbeatRequest:
		resp := r.ResponseKind().(*kmsg.ShareGroupHeartbeatResponse)
		resp.ErrorCode, resp.ErrorMessage = code, msg
		return resp
	case *kmsg.ShareFetchRequest:
		resp := r.ResponseKind().(*kmsg.ShareFetchResponse)
		resp.ErrorCode, resp.ErrorMessage = code, msg
		return resp
	case *kmsg.ShareAcknowledgeRequest:
		resp := r.ResponseKind().(*kmsg.ShareAcknowledgeResponse)
		resp.ErrorCode, resp.ErrorMessage = code, msg
		return resp
	case *kmsg.AlterShareGroupOffsetsRequest:
		resp := r.ResponseKind().(*kmsg.AlterShareGroupOffsetsResponse)
		resp.ErrorCode, resp.ErrorMessage = code, msg
		return resp
	case *kmsg.DeleteShareGroupOffsetsRequest:
		resp := r.ResponseKind().(*kmsg.DeleteShareGroupOffsetsResponse)
		resp.ErrorCode, resp.ErrorMessage = code, msg
		return resp
	case *kmsg.ShareGroupDescribeRequest:
		resp := r.ResponseKind().(*kmsg.ShareGroupDescribeResponse)
		for _, id := range r.GroupIDs {
			g := kmsg.NewShareGroupDescribeResponseGroup()
			g.GroupID, g.ErrorCode, g.ErrorMessage = id, code, msg
			resp.Groups = append(resp.Groups, g)
		}
		return resp
	case *kmsg.DescribeShareGroupOffsetsRequest:
		resp := r.ResponseKind().(*kmsg.DescribeShareGroupOffsetsResponse)
		for _, rg := range r.Groups {
			g := kmsg.NewDescribeShareGroupOffsetsResponseGroup()
			g.GroupID, g.ErrorCode, g.ErrorMessage = rg.GroupID, code, msg
			resp.Groups = append(resp.Groups, g)
		}
		return resp
	}
	return m.ResponseKind()
}
