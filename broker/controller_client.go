package broker

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/config"
	"spool/protocol"
)

// controllerClient sends requests to the active controller over the
// controller listener, finding it among the voters: a request answered with
// NOT_CONTROLLER, or a dead connection, moves on to the next voter.
type controllerClient struct {
	voters []config.Voter
	mu     sync.Mutex
	cur    int
	conns  map[int32]*protocol.Client
	id     string
	dial   protocol.DialFunc
	// discovery is set for a dynamic quorum (controller_discovery.go).
	discovery *controllerDiscovery
}

// newControllerClient finds the active controller among the static voters,
// or, for a dynamic quorum (no voters), through the bootstrap servers.
func newControllerClient(node *config.Node, clientID string, dial protocol.DialFunc) *controllerClient {
	cc := &controllerClient{voters: node.Voters, conns: map[int32]*protocol.Client{}, id: clientID, dial: dial}
	if len(node.Voters) == 0 {
		cc.discovery = &controllerDiscovery{bootstrap: node.BootstrapServers, listener: "CONTROLLER"}
		if len(node.ControllerListeners) > 0 {
			cc.discovery.listener = node.ControllerListeners[0]
		}
		cc.voters = cc.discovery.seeds(nil)
	}
	return cc
}

func (cc *controllerClient) current() (*protocol.Client, int) {
	cc.maybeRefresh(false)
	cc.mu.Lock()
	defer cc.mu.Unlock()
	v := cc.voters[cc.cur%len(cc.voters)]
	c, ok := cc.conns[v.ID]
	if !ok {
		c = protocol.NewClientDial(v.Addr(), cc.id, cc.dial)
		cc.conns[v.ID] = c
	}
	return c, cc.cur
}

// moveOn switches to the next voter unless another caller already did.
func (cc *controllerClient) moveOn(from int) {
	cc.mu.Lock()
	if cc.cur == from {
		cc.cur++
	}
	cc.mu.Unlock()
	cc.maybeRefresh(true)
}

// hint points the client at the voter with node id leader.
func (cc *controllerClient) hint(leader int32) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	for i, v := range cc.voters {
		if v.ID == leader {
			cc.cur = cc.cur - cc.cur%len(cc.voters) + i
			return
		}
	}
}

// Request sends req to the active controller, retrying on other voters
// until ctx ends.
func (cc *controllerClient) Request(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	return cc.RequestWithin(ctx, req, 35*time.Second)
}

// RequestWithin is Request with each voter given at most attempt to
// answer before the next is tried: a controller cut off by the network
// never answers, and a heartbeat stuck on it would outlive the broker's
// session at the controller that replaced it.
func (cc *controllerClient) RequestWithin(ctx context.Context, req kmsg.Request, attempt time.Duration) (kmsg.Response, error) {
	backoff := 50 * time.Millisecond
	for {
		c, at := cc.current()
		rctx, cancel := context.WithTimeout(ctx, attempt)
		resp, err := c.Request(rctx, req)
		cancel()
		if err == nil && !notController(resp) {
			return resp, nil
		}
		cc.moveOn(at)
		select {
		case <-ctx.Done():
			if err == nil {
				err = kerr.NotController
			}
			return nil, fmt.Errorf("no active controller among the voters %s (a majority of controllers may be down): %w", cc.votersString(), err)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Second)
	}
}

// notController reports whether a controller answered that it is not the
// active one, in whichever field the response has for it.
func notController(resp kmsg.Response) bool {
	nc := kerr.NotController.Code
	switch r := resp.(type) {
	case *kmsg.BrokerRegistrationResponse:
		return r.ErrorCode == nc
	case *kmsg.BrokerHeartbeatResponse:
		return r.ErrorCode == nc
	case *kmsg.AlterPartitionAssignmentsResponse:
		return r.ErrorCode == nc
	case *kmsg.UnregisterBrokerResponse:
		return r.ErrorCode == nc
	case *kmsg.AddRaftVoterResponse:
		return r.ErrorCode == nc
	case *kmsg.RemoveRaftVoterResponse:
		return r.ErrorCode == nc
	case *kmsg.UpdateFeaturesResponse:
		return r.ErrorCode == nc
	case *kmsg.DescribeQuorumResponse:
		// Only the raft leader describes the quorum; a follower answers
		// NOT_LEADER_OR_FOLLOWER for the partition.
		for _, t := range r.Topics {
			for _, p := range t.Partitions {
				if p.ErrorCode == kerr.NotLeaderForPartition.Code {
					return true
				}
			}
		}
		return r.ErrorCode == nc
	case *kmsg.CreateTopicsResponse:
		for _, t := range r.Topics {
			if t.ErrorCode == nc {
				return true
			}
		}
	case *kmsg.DeleteTopicsResponse:
		for _, t := range r.Topics {
			if t.ErrorCode == nc {
				return true
			}
		}
	case *kmsg.CreatePartitionsResponse:
		for _, t := range r.Topics {
			if t.ErrorCode == nc {
				return true
			}
		}
	case *kmsg.AlterConfigsResponse:
		for _, res := range r.Resources {
			if res.ErrorCode == nc {
				return true
			}
		}
	case *kmsg.IncrementalAlterConfigsResponse:
		for _, res := range r.Resources {
			if res.ErrorCode == nc {
				return true
			}
		}
	}
	return false
}

func (cc *controllerClient) close() {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	for _, c := range cc.conns {
		c.Close()
	}
}

func (cc *controllerClient) votersString() string {
	var parts []string
	for _, v := range cc.voters {
		parts = append(parts, fmt.Sprintf("%d@%s", v.ID, v.Addr()))
	}
	return strings.Join(parts, ",")
}

// forwardContext bounds a forwarded admin request by the client's own
// timeout, so the client gets the broker's error rather than its own.
func forwardContext(ctx context.Context, timeoutMillis int32) (context.Context, context.CancelFunc) {
	if timeoutMillis > 0 {
		return context.WithTimeout(ctx, time.Duration(timeoutMillis)*time.Millisecond)
	}
	return context.WithCancel(ctx)
}
