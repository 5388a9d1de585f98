package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// The share-group APIs' checks (KIP-932): READ on the group and READ on
// every topic fetched or acknowledged; DESCRIBE on the topics a member
// subscribes to; DESCRIBE on the group and topics whose share offsets are
// described. A refusal answers the whole request with the error.

func checkShareGroupHeartbeat(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.ShareGroupHeartbeatRequest)
	resp := r.ResponseKind().(*kmsg.ShareGroupHeartbeatResponse)
	if !b.allowed(req, aclRead, groupRT, r.GroupID) {
		resp.ErrorCode = groupRefused
		return resp, true
	}
	for _, t := range r.SubscribedTopicNames {
		if !b.allowed(req, aclDescribe, topicRT, t) {
			resp.ErrorCode = topicRefused
			return resp, true
		}
	}
	return nil, false
}

func checkShareFetch(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.ShareFetchRequest)
	resp := r.ResponseKind().(*kmsg.ShareFetchResponse)
	if r.GroupID != nil && !b.allowed(req, aclRead, groupRT, *r.GroupID) {
		resp.ErrorCode = groupRefused
		return resp, true
	}
	for _, t := range r.Topics {
		if !b.allowed(req, aclRead, topicRT, b.topicName("", t.TopicID)) {
			resp.ErrorCode = topicRefused
			return resp, true
		}
	}
	return nil, false
}

func checkShareAcknowledge(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.ShareAcknowledgeRequest)
	resp := r.ResponseKind().(*kmsg.ShareAcknowledgeResponse)
	if r.GroupID != nil && !b.allowed(req, aclRead, groupRT, *r.GroupID) {
		resp.ErrorCode = groupRefused
		return resp, true
	}
	for _, t := range r.Topics {
		if !b.allowed(req, aclRead, topicRT, b.topicName("", t.TopicID)) {
			resp.ErrorCode = topicRefused
			return resp, true
		}
	}
	return nil, false
}

func checkDescribeShareGroupOffsets(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.DescribeShareGroupOffsetsRequest)
	denied := int16(0)
	for _, g := range r.Groups {
		if !b.allowed(req, aclDescribe, groupRT, g.GroupID) {
			denied = groupRefused
		}
		for _, t := range g.Topics {
			if denied == 0 && !b.allowed(req, aclDescribe, topicRT, t.Topic) {
				denied = topicRefused
			}
		}
	}
	if denied == 0 {
		return nil, false
	}
	resp := r.ResponseKind().(*kmsg.DescribeShareGroupOffsetsResponse)
	for _, g := range r.Groups {
		rg := kmsg.NewDescribeShareGroupOffsetsResponseGroup()
		rg.GroupID, rg.ErrorCode = g.GroupID, denied
		resp.Groups = append(resp.Groups, rg)
	}
	return resp, true
}

func checkShareGroupDescribe(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.ShareGroupDescribeRequest)
	denied := false
	for _, g := range r.GroupIDs {
		denied = denied || !b.allowed(req, aclDescribe, groupRT, g)
	}
	if !denied {
		return nil, false
	}
	resp := r.ResponseKind().(*kmsg.ShareGroupDescribeResponse)
	for _, g := range r.GroupIDs {
		rg := kmsg.NewShareGroupDescribeResponseGroup()
		rg.GroupID, rg.ErrorCode = g, groupRefused
		resp.Groups = append(resp.Groups, rg)
	}
	return resp, true
}

func checkAlterShareGroupOffsets(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.AlterShareGroupOffsetsRequest)
	resp := r.ResponseKind().(*kmsg.AlterShareGroupOffsetsResponse)
	if !b.allowed(req, aclRead, groupRT, r.GroupID) {
		resp.ErrorCode = groupRefused
		return resp, true
	}
	for _, t := range r.Topics {
		if !b.allowed(req, aclRead, topicRT, t.Topic) {
			resp.ErrorCode = topicRefused
			return resp, true
		}
	}
	return nil, false
}

func checkDeleteShareGroupOffsets(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.DeleteShareGroupOffsetsRequest)
	resp := r.ResponseKind().(*kmsg.DeleteShareGroupOffsetsResponse)
	if !b.allowed(req, kmsg.ACLOperationDelete, groupRT, r.GroupID) {
		resp.ErrorCode = groupRefused
		return resp, true
	}
	for _, t := range r.Topics {
		if !b.allowed(req, aclRead, topicRT, t.Topic) {
			resp.ErrorCode = topicRefused
			return resp, true
		}
	}
	return nil, false
}
