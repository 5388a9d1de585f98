package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/authz"
	"spool/protocol"
)

// The per-API checks of brokerChecks, with the operations Kafka's request
// handlers require. A request naming any topic, group or id its principal
// may not use is refused whole (Kafka answers such items one by one and
// serves the rest; see ARCHITECTURE.md).

const (
	aclRead     = kmsg.ACLOperationRead
	aclWrite    = kmsg.ACLOperationWrite
	aclDescribe = kmsg.ACLOperationDescribe
	topicRT     = kmsg.ACLResourceTypeTopic
	groupRT     = kmsg.ACLResourceTypeGroup
	txnRT       = kmsg.ACLResourceTypeTransactionalId
)

func checkProduce(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.ProduceRequest)
	code := int16(0)
	if r.TransactionID != nil && !b.allowed(req, aclWrite, txnRT, *r.TransactionID) {
		code = txnRefused
	}
	for _, t := range r.Topics {
		if code == 0 && !b.allowed(req, aclWrite, topicRT, b.topicName(t.Topic, t.TopicID)) {
			code = topicRefused
		}
	}
	if code == 0 {
		return nil, false
	}
	if r.Acks == 0 {
		return nil, true // nothing is answered at acks=0: the connection closes
	}
	return authz.RefuseCode(r, code), true
}

func checkFetch(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.FetchRequest)
	if fetchReplicaID(r) >= 0 {
		return nil, false // the handler requires CLUSTER_ACTION (fromBroker)
	}
	for _, t := range r.Topics {
		if !b.allowed(req, aclRead, topicRT, b.topicName(t.Topic, t.TopicID)) {
			return authz.RefuseCode(r, topicRefused), true
		}
	}
	return nil, false
}

func checkListOffsets(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.ListOffsetsRequest)
	for _, t := range r.Topics {
		if !b.allowed(req, aclDescribe, topicRT, t.Topic) {
			return authz.RefuseCode(r, topicRefused), true
		}
	}
	return nil, false
}

func checkOffsetForLeaderEpoch(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.OffsetForLeaderEpochRequest)
	if r.ReplicaID >= 0 {
		return refuseIf(!b.fromBroker(req), req, clusterRefused)
	}
	for _, t := range r.Topics {
		if !b.allowed(req, aclDescribe, topicRT, t.Topic) {
			return authz.RefuseCode(r, topicRefused), true
		}
	}
	return nil, false
}

func checkOffsetCommit(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.OffsetCommitRequest)
	if !b.allowed(req, aclRead, groupRT, r.Group) {
		return authz.RefuseCode(r, groupRefused), true
	}
	for _, t := range r.Topics {
		if !b.allowed(req, aclRead, topicRT, b.topicName(t.Topic, t.TopicID)) {
			return authz.RefuseCode(r, topicRefused), true
		}
	}
	return nil, false
}

func checkOffsetFetch(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.OffsetFetchRequest)
	resp := r.ResponseKind().(*kmsg.OffsetFetchResponse)
	if r.Version < 8 {
		if b.allowed(req, aclDescribe, groupRT, r.Group) {
			return nil, false
		}
		resp.ErrorCode = groupRefused
		return resp, true
	}
	denied := false
	for _, g := range r.Groups {
		rg := kmsg.NewOffsetFetchResponseGroup()
		rg.Group = g.Group
		if !b.allowed(req, aclDescribe, groupRT, g.Group) {
			rg.ErrorCode, denied = groupRefused, true
		}
		resp.Groups = append(resp.Groups, rg)
	}
	if !denied {
		return nil, false
	}
	for i := range resp.Groups {
		if resp.Groups[i].ErrorCode == 0 {
			// Refused whole: the others are answered as not tried.
			resp.Groups[i].ErrorCode = groupRefused
		}
	}
	return resp, true
}

func checkFindCoordinator(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.FindCoordinatorRequest)
	rt, code := groupRT, groupRefused
	if r.CoordinatorType == 1 {
		rt, code = txnRT, txnRefused
	}
	keys := r.CoordinatorKeys
	if r.Version < 4 {
		keys = []string{r.CoordinatorKey}
	}
	denied := false
	for _, k := range keys {
		if !b.allowed(req, aclDescribe, rt, k) {
			denied = true
		}
	}
	if !denied {
		return nil, false
	}
	resp := r.ResponseKind().(*kmsg.FindCoordinatorResponse)
	if r.Version < 4 {
		resp.ErrorCode, resp.NodeID, resp.Port = code, -1, -1
		return resp, true
	}
	for _, k := range keys {
		c := kmsg.NewFindCoordinatorResponseCoordinator()
		c.Key, c.ErrorCode, c.NodeID, c.Port = k, code, -1, -1
		resp.Coordinators = append(resp.Coordinators, c)
	}
	return resp, true
}

func checkCreateTopics(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.CreateTopicsRequest)
	if b.clusterAllowed(req, kmsg.ACLOperationCreate) {
		return nil, false
	}
	for _, t := range r.Topics {
		if !b.allowed(req, kmsg.ACLOperationCreate, topicRT, t.Topic) {
			return authz.Refuse(r), true
		}
	}
	return nil, false
}

func checkDeleteTopics(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.DeleteTopicsRequest)
	if b.clusterAllowed(req, kmsg.ACLOperationDelete) {
		return nil, false // Kafka's controller lets DELETE on the cluster delete any topic
	}
	names := append([]string(nil), r.TopicNames...)
	for _, t := range r.Topics {
		name := ""
		if t.Topic != nil {
			name = *t.Topic
		}
		names = append(names, b.topicName(name, t.TopicID))
	}
	return refuseIf(!b.topicsAllowed(req, kmsg.ACLOperationDelete, names...), req, topicRefused)
}

func checkDeleteRecords(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.DeleteRecordsRequest)
	for _, t := range r.Topics {
		if !b.allowed(req, kmsg.ACLOperationDelete, topicRT, t.Topic) {
			return authz.RefuseCode(r, topicRefused), true
		}
	}
	return nil, false
}

func checkCreatePartitions(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.CreatePartitionsRequest)
	for _, t := range r.Topics {
		if !b.allowed(req, kmsg.ACLOperationAlter, topicRT, t.Topic) {
			return authz.Refuse(r), true
		}
	}
	return nil, false
}

// checkInitProducerID: a transactional id needs WRITE on it; an idempotent
// producer needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic
// (KIP-679).
func checkInitProducerID(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.InitProducerIDRequest)
	if r.TransactionalID != nil {
		return refuseIf(!b.allowed(req, aclWrite, txnRT, *r.TransactionalID), req, txnRefused)
	}
	if b.clusterAllowed(req, kmsg.ACLOperationIdempotentWrite) ||
		b.cfg.Authorizer.AuthorizeAnyOfType(b.Image().ACLs, req.Principal, authz.HostOf(req.Remote), aclWrite, topicRT) {
		return nil, false
	}
	return authz.RefuseCode(r, clusterRefused), true
}

func checkAddPartitionsToTxn(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.AddPartitionsToTxnRequest)
	if r.Version >= 4 {
		return refuseIf(!b.fromBroker(req), req, clusterRefused)
	}
	if !b.allowed(req, aclWrite, txnRT, r.TransactionalID) {
		return authz.RefuseCode(r, txnRefused), true
	}
	for _, t := range r.Topics {
		if !b.allowed(req, aclWrite, topicRT, t.Topic) {
			return authz.RefuseCode(r, topicRefused), true
		}
	}
	return nil, false
}

func checkAddOffsetsToTxn(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.AddOffsetsToTxnRequest)
	if !b.allowed(req, aclWrite, txnRT, r.TransactionalID) {
		return authz.RefuseCode(r, txnRefused), true
	}
	return refuseIf(!b.allowed(req, aclRead, groupRT, r.Group), req, groupRefused)
}

func checkTxnOffsetCommit(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.TxnOffsetCommitRequest)
	switch {
	case !b.allowed(req, aclWrite, txnRT, r.TransactionalID):
		return authz.RefuseCode(r, txnRefused), true
	case !b.allowed(req, aclRead, groupRT, r.Group):
		return authz.RefuseCode(r, groupRefused), true
	}
	for _, t := range r.Topics {
		if !b.allowed(req, aclRead, topicRT, t.Topic) {
			return authz.RefuseCode(r, topicRefused), true
		}
	}
	return nil, false
}

func checkOffsetDelete(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.OffsetDeleteRequest)
	if !b.allowed(req, kmsg.ACLOperationDelete, groupRT, r.Group) {
		return authz.RefuseCode(r, groupRefused), true
	}
	for _, t := range r.Topics {
		if !b.allowed(req, aclRead, topicRT, t.Topic) {
			return authz.RefuseCode(r, topicRefused), true
		}
	}
	return nil, false
}

func checkDeleteGroups(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.DeleteGroupsRequest)
	denied := false
	for _, g := range r.Groups {
		denied = denied || !b.allowed(req, kmsg.ACLOperationDelete, groupRT, g)
	}
	if !denied {
		return nil, false
	}
	resp := r.ResponseKind().(*kmsg.DeleteGroupsResponse)
	for _, g := range r.Groups {
		rg := kmsg.NewDeleteGroupsResponseGroup()
		rg.Group, rg.ErrorCode = g, groupRefused
		resp.Groups = append(resp.Groups, rg)
	}
	return resp, true
}

func checkDescribeProducers(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.DescribeProducersRequest)
	for _, t := range r.Topics {
		if !b.allowed(req, aclRead, topicRT, t.Topic) {
			return authz.RefuseCode(r, topicRefused), true
		}
	}
	return nil, false
}

func checkDescribeTransactions(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.DescribeTransactionsRequest)
	denied := false
	for _, id := range r.TransactionalIDs {
		denied = denied || !b.allowed(req, aclDescribe, txnRT, id)
	}
	if !denied {
		return nil, false
	}
	resp := r.ResponseKind().(*kmsg.DescribeTransactionsResponse)
	for _, id := range r.TransactionalIDs {
		s := kmsg.NewDescribeTransactionsResponseTransactionState()
		s.TransactionalID, s.ErrorCode, s.ProducerID, s.ProducerEpoch = id, txnRefused, -1, -1
		resp.TransactionStates = append(resp.TransactionStates, s)
	}
	return resp, true
}

// configAllowed: topics need op on the topic, every other resource op on
// the cluster.
func (b *Broker) configAllowed(req *protocol.Request, op kmsg.ACLOperation, t kmsg.ConfigResourceType, name string) bool {
	switch t {
	case kmsg.ConfigResourceTypeTopic:
		return b.allowed(req, op, topicRT, name)
	case kmsg.ConfigResourceTypeGroupConfig:
		// A group's configs need the operation on the group, as in Kafka.
		return b.allowed(req, op, groupRT, name)
	}
	return b.clusterAllowed(req, op)
}

func checkDescribeConfigs(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.DescribeConfigsRequest)
	denied := false
	for _, res := range r.Resources {
		denied = denied || !b.configAllowed(req, kmsg.ACLOperationDescribeConfigs, res.ResourceType, res.ResourceName)
	}
	if !denied {
		return nil, false
	}
	resp := r.ResponseKind().(*kmsg.DescribeConfigsResponse)
	for _, res := range r.Resources {
		rr := kmsg.NewDescribeConfigsResponseResource()
		rr.ResourceType, rr.ResourceName, rr.ErrorCode = res.ResourceType, res.ResourceName, authz.ConfigRefusal(res.ResourceType)
		resp.Resources = append(resp.Resources, rr)
	}
	return resp, true
}

func checkAlterConfigs(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.AlterConfigsRequest)
	for _, res := range r.Resources {
		if !b.configAllowed(req, kmsg.ACLOperationAlterConfigs, res.ResourceType, res.ResourceName) {
			return authz.Refuse(r), true
		}
	}
	return nil, false
}

func checkIncrementalAlterConfigs(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.IncrementalAlterConfigsRequest)
	for _, res := range r.Resources {
		if !b.configAllowed(req, kmsg.ACLOperationAlterConfigs, res.ResourceType, res.ResourceName) {
			return authz.Refuse(r), true
		}
	}
	return nil, false
}

// checkConsumerGroupHeartbeat: READ on the group (KIP-848); the topics a
// member subscribes to are not checked here.
func checkConsumerGroupHeartbeat(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.ConsumerGroupHeartbeatRequest)
	if b.allowed(req, aclRead, groupRT, r.Group) {
		return nil, false
	}
	resp := r.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
	resp.ErrorCode = groupRefused
	return resp, true
}

func checkConsumerGroupDescribe(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
	r := req.Msg.(*kmsg.ConsumerGroupDescribeRequest)
	denied := false
	for _, g := range r.Groups {
		denied = denied || !b.allowed(req, aclDescribe, groupRT, g)
	}
	if !denied {
		return nil, false
	}
	resp := r.ResponseKind().(*kmsg.ConsumerGroupDescribeResponse)
	for _, g := range r.Groups {
		rg := kmsg.NewConsumerGroupDescribeResponseGroup()
		rg.Group, rg.ErrorCode = g, groupRefused
		resp.Groups = append(resp.Groups, rg)
	}
	return resp, true
}
