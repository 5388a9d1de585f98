package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/authz"
	"spool/protocol"
)

// Authorization on the broker: every registered API passes through
// guard, which runs the API's check from brokerChecks before the handler.
// A check returns nil to let the request through, or the whole answer
// with Kafka's authorization errors. An API missing from the table is
// served only to principals with ALTER on the cluster (fail closed).
// Metadata, DescribeGroups, DescribeCluster and the ACL APIs check inside
// their handlers, because they answer per resource or report authorized
// operations.

const (
	topicRefused   = int16(29) // TOPIC_AUTHORIZATION_FAILED
	groupRefused   = int16(30) // GROUP_AUTHORIZATION_FAILED
	clusterRefused = int16(31) // CLUSTER_AUTHORIZATION_FAILED
	txnRefused     = int16(53) // TRANSACTIONAL_ID_AUTHORIZATION_FAILED
)

type authCheck func(b *Broker, req *protocol.Request) (refusal kmsg.Response, refused bool)

// handle registers serve for key behind the authorization guard.
func (b *Broker) handle(mux *protocol.Mux, key, min, max int16, serve protocol.ServeFunc) {
	mux.Handle(key, min, max, b.guard(key, b.metered(key, serve)))
}

func (b *Broker) guard(key int16, serve protocol.ServeFunc) protocol.ServeFunc {
	if !b.cfg.Authorizer.Enabled() {
		return serve
	}
	check, ok := brokerChecks[key]
	if !ok {
		check = clusterCheck(kmsg.ACLOperationAlter)
	}
	if check == nil {
		return serve
	}
	return func(req *protocol.Request, respond func(protocol.Response)) {
		resp, refused := check(b, req)
		if !refused {
			serve(req, respond)
			return
		}
		b.authRefused.Add(1)
		if resp == nil {
			respond(protocol.CloseConn)
			return
		}
		respond(protocol.Msg(resp))
	}
}

// allowed reports whether req's principal may perform op on a resource.
func (b *Broker) allowed(req *protocol.Request, op kmsg.ACLOperation, rt kmsg.ACLResourceType, name string) bool {
	return b.cfg.Authorizer.Authorize(b.Image().ACLs, req.Principal, authz.HostOf(req.Remote), authz.Action{Op: op, Type: rt, Name: name})
}

func (b *Broker) clusterAllowed(req *protocol.Request, op kmsg.ACLOperation) bool {
	return b.allowed(req, op, kmsg.ACLResourceTypeCluster, authz.ClusterName)
}

// authorizedOps is the authorized-operations value of a resource for
// req's principal, or Kafka's "not requested" value.
func (b *Broker) authorizedOps(req *protocol.Request, requested bool, rt kmsg.ACLResourceType, name string, supported int32) int32 {
	if !requested {
		return authorizedOperationsUnset
	}
	return b.cfg.Authorizer.AuthorizedOperations(b.Image().ACLs, req.Principal, authz.HostOf(req.Remote), rt, name, supported)
}

// topicsAllowed reports whether every named topic allows op.
func (b *Broker) topicsAllowed(req *protocol.Request, op kmsg.ACLOperation, names ...string) bool {
	for _, n := range names {
		if !b.allowed(req, op, kmsg.ACLResourceTypeTopic, n) {
			return false
		}
	}
	return true
}

// topicName is a topic's name, looked up by id when the request has one.
func (b *Broker) topicName(name string, id [16]byte) string {
	if id != ([16]byte{}) {
		if t := b.Image().Topics.ByID(id); t != nil {
			return t.Name
		}
	}
	return name
}

func clusterCheck(op kmsg.ACLOperation) authCheck {
	return func(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
		if b.clusterAllowed(req, op) {
			return nil, false
		}
		if req.Msg == nil {
			return nil, true
		}
		return authz.RefuseCode(req.Msg, clusterRefused), true
	}
}

// refuseIf answers req with code in every item when denied.
func refuseIf(denied bool, req *protocol.Request, code int16) (kmsg.Response, bool) {
	if !denied {
		return nil, false
	}
	return authz.RefuseCode(req.Msg, code), true
}

// brokerChecks: nil entries check inside their handlers.
var brokerChecks = map[int16]authCheck{
	0:  checkProduce,
	1:  checkFetch,
	2:  checkListOffsets,
	3:  nil, // Metadata
	38: nil, // delegation tokens: the handlers check (CREATE_TOKENS, DESCRIBE, DESCRIBE_TOKENS)
	39: nil,
	40: nil,
	41: nil,
	8:  checkOffsetCommit,
	9:  checkOffsetFetch,
	10: checkFindCoordinator,
	11: groupCheck(func(m kmsg.Request) string { return m.(*kmsg.JoinGroupRequest).Group }),
	12: groupCheck(func(m kmsg.Request) string { return m.(*kmsg.HeartbeatRequest).Group }),
	13: groupCheck(func(m kmsg.Request) string { return m.(*kmsg.LeaveGroupRequest).Group }),
	14: groupCheck(func(m kmsg.Request) string { return m.(*kmsg.SyncGroupRequest).Group }),
	15: nil,          // DescribeGroups
	16: nil,          // ListGroups filters its answer
	17: nil, 36: nil, // SASL
	19: checkCreateTopics,
	20: checkDeleteTopics,
	21: checkDeleteRecords,
	22: checkInitProducerID,
	23: checkOffsetForLeaderEpoch,
	24: checkAddPartitionsToTxn,
	25: checkAddOffsetsToTxn,
	26: txnCheck(func(m kmsg.Request) string { return m.(*kmsg.EndTxnRequest).TransactionalID }),
	27: nil, // WriteTxnMarkers: fromBroker
	28: checkTxnOffsetCommit,
	29: nil, 30: nil, 31: nil, // the ACL APIs
	32:                        checkDescribeConfigs,
	33:                        checkAlterConfigs,
	35:                        clusterCheck(kmsg.ACLOperationDescribe),
	37:                        checkCreatePartitions,
	42:                        checkDeleteGroups,
	43:                        clusterCheck(kmsg.ACLOperationAlter),
	44:                        checkIncrementalAlterConfigs,
	47:                        checkOffsetDelete,
	48:                        clusterCheck(kmsg.ACLOperationDescribeConfigs), // DescribeClientQuotas
	49:                        clusterCheck(kmsg.ACLOperationAlterConfigs),    // AlterClientQuotas
	50:                        clusterCheck(kmsg.ACLOperationDescribe),
	51:                        clusterCheck(kmsg.ACLOperationAlter),
	45:                        clusterCheck(kmsg.ACLOperationAlter),    // AlterPartitionAssignments
	46:                        clusterCheck(kmsg.ACLOperationDescribe), // ListPartitionReassignments
	55:                        clusterCheck(kmsg.ACLOperationDescribe), // DescribeQuorum
	60:                        nil,                                     // DescribeCluster
	61:                        checkDescribeProducers,
	65:                        checkDescribeTransactions,
	68:                        checkConsumerGroupHeartbeat,
	69:                        checkConsumerGroupDescribe,
	76:                        checkShareGroupHeartbeat,
	77:                        checkShareGroupDescribe,
	78:                        checkShareFetch,
	79:                        checkShareAcknowledge,
	90:                        checkDescribeShareGroupOffsets,
	91:                        checkAlterShareGroupOffsets,
	92:                        checkDeleteShareGroupOffsets,
	83:                        clusterCheck(kmsg.ACLOperationClusterAction), // the share coordinator's state APIs
	84:                        clusterCheck(kmsg.ACLOperationClusterAction),
	85:                        clusterCheck(kmsg.ACLOperationClusterAction),
	86:                        clusterCheck(kmsg.ACLOperationClusterAction),
	87:                        clusterCheck(kmsg.ACLOperationClusterAction),
	66:                        nil,                                            // ListTransactions filters its answer
	74:                        clusterCheck(kmsg.ACLOperationDescribeConfigs), // ListConfigResources
	75:                        nil,                                            // DescribeTopicPartitions filters its answer
	protocol.CleanerStatusKey: clusterCheck(kmsg.ACLOperationDescribe),
}

func groupCheck(group func(kmsg.Request) string) authCheck {
	return func(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
		return refuseIf(!b.allowed(req, kmsg.ACLOperationRead, kmsg.ACLResourceTypeGroup, group(req.Msg)), req, groupRefused)
	}
}

func txnCheck(id func(kmsg.Request) string) authCheck {
	return func(b *Broker, req *protocol.Request) (kmsg.Response, bool) {
		return refuseIf(!b.allowed(req, kmsg.ACLOperationWrite, kmsg.ACLResourceTypeTransactionalId, id(req.Msg)), req, txnRefused)
	}
}
