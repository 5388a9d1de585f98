package controller

import (
	"context"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"spool/controller/metadata"
	"spool/protocol"
)

// requestTimeout bounds how long a forwarded request may wait for its
// records to commit.
const requestTimeout = 30 * time.Second

// Register adds the controller listener's APIs to mux.
func (c *Controller) Register(mux *protocol.Mux) {
	const (
		clusterAction = kmsg.ACLOperationClusterAction
		alter         = kmsg.ACLOperationAlter
		describe      = kmsg.ACLOperationDescribe
	)
	mux.HandleRaw(protocol.RaftMessageKey, c.guard(clusterAction, c.serveRaft))
	mux.Handle(1, 12, 17, c.guard(clusterAction, c.serveFetch))
	mux.Handle(19, 2, 7, c.guard(kmsg.ACLOperationCreate, async(c.serveCreateTopics)))
	mux.Handle(20, 1, 6, c.guard(kmsg.ACLOperationDelete, async(c.serveDeleteTopics)))
	mux.Handle(33, 0, 2, c.guard(kmsg.ACLOperationAlterConfigs, async(c.serveAlterConfigs)))
	mux.Handle(37, 0, 3, c.guard(alter, async(c.serveCreatePartitions)))
	mux.Handle(44, 0, 1, c.guard(kmsg.ACLOperationAlterConfigs, async(c.serveIncrementalAlterConfigs)))
	mux.Handle(43, 0, 2, c.guard(alter, async(c.serveElectLeaders)))
	mux.Handle(55, 0, 2, c.guard(describe, c.serveDescribeQuorum))
	mux.Handle(60, 0, 2, c.guard(describe, c.serveDescribeCluster))
	mux.Handle(80, 0, 1, c.guard(alter, async(c.serveAddRaftVoter)))
	mux.Handle(81, 0, 0, c.guard(alter, async(c.serveRemoveRaftVoter)))
	mux.Handle(82, 0, 0, c.guard(clusterAction, async(c.serveUpdateRaftVoter)))
	mux.Handle(45, 0, 1, c.guard(alter, async(c.serveAlterPartitionAssignments)))
	mux.Handle(46, 0, 0, c.guard(describe, c.serveListPartitionReassignments))
	mux.Handle(64, 0, 0, c.guard(alter, async(c.serveUnregisterBroker)))
	mux.Handle(57, 0, 2, c.guard(alter, async(c.serveUpdateFeatures)))
	mux.Handle(56, 2, 3, c.guard(clusterAction, async(c.serveAlterPartition)))
	mux.Handle(59, 0, 1, c.guard(clusterAction, c.serveFetchSnapshot))
	mux.Handle(62, 0, 4, c.guard(clusterAction, async(c.serveBrokerRegistration)))
	mux.Handle(63, 0, 1, c.guard(clusterAction, async(c.serveBrokerHeartbeat)))
	mux.Handle(67, 0, 0, c.guard(clusterAction, async(c.serveAllocateProducerIDs)))
	mux.Handle(50, 0, 0, c.guard(describe, c.serveDescribeUserScramCredentials))
	mux.Handle(51, 0, 0, c.guard(alter, async(c.serveAlterUserScramCredentials)))
	// AlterClientQuotas only: DescribeClientQuotas is a broker API, as in
	// Kafka, answered from each broker's image.
	mux.Handle(49, 0, 1, c.guard(kmsg.ACLOperationAlterConfigs, async(c.serveAlterClientQuotas)))
	// The ACL APIs check for themselves: without an authorizer they
	// answer SECURITY_DISABLED rather than a refusal.
	mux.Handle(29, 1, 3, c.serveDescribeAcls)
	mux.Handle(30, 1, 3, async(c.serveCreateAcls))
	mux.Handle(31, 1, 3, async(c.serveDeleteAcls))
	// Delegation tokens: the principal checks are the token's owner and
	// renewers, made by the handlers (the broker checks ACLs).
	mux.Handle(38, 1, 3, async(c.serveCreateDelegationToken))
	mux.Handle(39, 1, 2, async(c.serveRenewDelegationToken))
	mux.Handle(40, 1, 2, async(c.serveExpireDelegationToken))
	mux.Handle(41, 1, 3, c.serveDescribeDelegationToken)
	mux.Handle(17, 0, 1, protocol.ServeSaslHandshake)
	mux.Handle(36, 0, 2, protocol.ServeSaslAuthenticate)
}

// async runs a handler that waits for a commit off the connection's reading
// goroutine, so the connection can read its next request meanwhile.
func async(f func(ctx context.Context, req *protocol.Request) protocol.Response) protocol.ServeFunc {
	return func(req *protocol.Request, respond func(protocol.Response)) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
			defer cancel()
			respond(f(ctx, req))
		}()
	}
}

func (c *Controller) serveRaft(req *protocol.Request, respond func(protocol.Response)) {
	var m raftpb.Message
	if err := proto.Unmarshal(req.Body, &m); err != nil {
		c.raftRefused.Add(1)
		c.log.Warn("bad raft message", zap.Stringer("remote", req.Remote), zap.Error(err))
		respond(protocol.CloseConn)
		return
	}
	if err := c.checkRaftMessage(req, &m); err != nil {
		c.raftRefused.Add(1)
		if ok, dropped := c.refusedLog.Allow(c.now()); ok {
			c.log.Warn("raft message refused; closing connection", zap.Stringer("remote", req.Remote),
				zap.Uint64("from", m.GetFrom()), zap.Stringer("type", m.GetType()), zap.Error(err), zap.Int("lines_suppressed", dropped))
		}
		respond(protocol.CloseConn)
		return
	}
	c.Step(&m)
	respond(protocol.Response{Raw: []byte{0, 0}})
}

func (c *Controller) serveCreateTopics(ctx context.Context, req *protocol.Request) protocol.Response {
	return protocol.Msg(c.CreateTopics(ctx, req.Msg.(*kmsg.CreateTopicsRequest)))
}

func (c *Controller) serveDeleteTopics(ctx context.Context, req *protocol.Request) protocol.Response {
	return protocol.Msg(c.DeleteTopics(ctx, req.Msg.(*kmsg.DeleteTopicsRequest)))
}

func (c *Controller) serveAlterConfigs(ctx context.Context, req *protocol.Request) protocol.Response {
	return protocol.Msg(c.AlterConfigs(ctx, req.Msg.(*kmsg.AlterConfigsRequest)))
}

func (c *Controller) serveIncrementalAlterConfigs(ctx context.Context, req *protocol.Request) protocol.Response {
	return protocol.Msg(c.IncrementalAlterConfigs(ctx, req.Msg.(*kmsg.IncrementalAlterConfigsRequest)))
}

func (c *Controller) serveCreatePartitions(ctx context.Context, req *protocol.Request) protocol.Response {
	return protocol.Msg(c.CreatePartitions(ctx, req.Msg.(*kmsg.CreatePartitionsRequest)))
}

func (c *Controller) serveBrokerRegistration(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.BrokerRegistrationRequest)
	resp := r.ResponseKind().(*kmsg.BrokerRegistrationResponse)
	epoch, err := c.RegisterBroker(ctx, r, sessionOf(req))
	resp.ErrorCode, resp.BrokerEpoch = errorCode(err), epoch
	return protocol.Msg(resp)
}

func (c *Controller) serveBrokerHeartbeat(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.BrokerHeartbeatRequest)
	resp := r.ResponseKind().(*kmsg.BrokerHeartbeatResponse)
	res, err := c.Heartbeat(ctx, r, sessionOf(req))
	resp.ErrorCode = errorCode(err)
	resp.IsCaughtUp, resp.IsFenced, resp.ShouldShutdown = res.CaughtUp, res.Fenced, res.ShouldShutDown
	if err != nil {
		resp.IsFenced = true
	}
	return protocol.Msg(resp)
}

func (c *Controller) serveDescribeQuorum(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.DescribeQuorumRequest)
	resp := r.ResponseKind().(*kmsg.DescribeQuorumResponse)
	for _, t := range r.Topics {
		rt := kmsg.NewDescribeQuorumResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewDescribeQuorumResponseTopicPartition()
			rp.Partition = p.Partition
			if t.Topic != MetadataTopic || p.Partition != 0 {
				rp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			} else {
				c.describeQuorum(&rp)
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if r.Version >= 2 {
		resp.Nodes = c.quorumNodes()
	}
	respond(protocol.Msg(resp))
}

// quorumNodes are the members' controller endpoints, DescribeQuorum v2's
// Nodes.
func (c *Controller) quorumNodes() []kmsg.DescribeQuorumResponseNode {
	v := c.view.Load()
	out := make([]kmsg.DescribeQuorumResponseNode, 0, len(v.members))
	for _, id := range append(append([]int32(nil), v.voters...), v.learners...) {
		m, ok := v.members[id]
		if !ok {
			continue
		}
		n := kmsg.NewDescribeQuorumResponseNode()
		n.NodeID = id
		for _, e := range m.Endpoints {
			l := kmsg.NewDescribeQuorumResponseNodeListener()
			l.Name, l.Host, l.Port = e.Name, e.Host, uint16(e.Port)
			n.Listeners = append(n.Listeners, l)
		}
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b kmsg.DescribeQuorumResponseNode) int { return int(a.NodeID - b.NodeID) })
	return out
}

// describeQuorum fills the quorum state from the raft status. Only the
// leader knows its followers' progress; others answer NOT_LEADER.
func (c *Controller) describeQuorum(rp *kmsg.DescribeQuorumResponseTopicPartition) {
	var st quorumStatus
	c.do(context.Background(), func() { st = c.quorumStatus() })
	if !st.leader {
		rp.ErrorCode = kerr.NotLeaderForPartition.Code
		rp.LeaderID = c.LeaderID()
		rp.LeaderEpoch = c.Epoch()
		return
	}
	rp.LeaderID, rp.LeaderEpoch, rp.HighWatermark = c.cfg.NodeID, int32(st.term), st.hw
	view := c.view.Load()
	for _, v := range st.voters {
		rv := kmsg.NewDescribeQuorumResponseTopicPartitionReplicaState()
		rv.ReplicaID, rv.LogEndOffset = v.id, v.end
		rv.ReplicaDirectoryID = view.members[v.id].DirID()
		rv.LastFetchTimestamp, rv.LastCaughtUpTimestamp = v.lastContact, v.lastContact
		if v.learner {
			rp.Observers = append(rp.Observers, rv)
		} else {
			rp.CurrentVoters = append(rp.CurrentVoters, rv)
		}
	}
}

func (c *Controller) serveAlterUserScramCredentials(ctx context.Context, req *protocol.Request) protocol.Response {
	return protocol.Msg(c.AlterUserScramCredentials(ctx, req.Msg.(*kmsg.AlterUserSCRAMCredentialsRequest)))
}

func (c *Controller) serveDescribeUserScramCredentials(req *protocol.Request, respond func(protocol.Response)) {
	respond(protocol.Msg(metadata.DescribeScram(c.Image(), req.Msg.(*kmsg.DescribeUserSCRAMCredentialsRequest))))
}
