package controller

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/protocol"
)

// discover asks the bootstrap servers where the controllers are when raft
// must answer one this node has no address for: a controller being added
// to a running quorum first hears from a leader it has never seen. One
// question at a time, at most twice a second; loop only.
func (c *Controller) discover(id uint64) {
	if len(c.cfg.BootstrapServers) == 0 || c.stop == nil || !c.discovering.CompareAndSwap(false, true) {
		return
	}
	go func() {
		found := c.askBootstrapServers()
		op := func() {
			for nid, addr := range found {
				if nid == c.cfg.NodeID {
					continue
				}
				c.discovered[nid] = addr
				if _, known := c.members[nid]; !known {
					c.trans.setPeer(raftID(nid), addr)
				}
			}
		}
		select {
		case c.ops <- op:
		case <-c.done:
		}
		time.Sleep(500 * time.Millisecond)
		c.discovering.Store(false)
	}()
	c.log.Debug("looking up a controller through the bootstrap servers", zap.Int32("node", nodeID(id)))
}

// askBootstrapServers asks each bootstrap server in turn to describe the
// controllers (DescribeCluster for controllers, KIP-919) and returns the
// first answer.
func (c *Controller) askBootstrapServers() map[int32]string {
	for _, addr := range c.cfg.BootstrapServers {
		found, err := describeControllers(addr, c.cfg.Dial, c.cfg.ElectionTimeout)
		if err == nil && len(found) > 0 {
			return found
		}
	}
	return nil
}

// describeControllers asks the controller listener at addr for the
// controllers' node ids and addresses.
func describeControllers(addr string, dial protocol.DialFunc, timeout time.Duration) (map[int32]string, error) {
	cl := protocol.NewClientDial(addr, "spool-controller-discovery", dial)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), max(timeout, time.Second))
	defer cancel()
	req := kmsg.NewPtrDescribeClusterRequest()
	req.SetVersion(1)
	req.EndpointType = endpointControllers
	raw, err := cl.Request(ctx, req)
	if err != nil {
		return nil, err
	}
	resp := raw.(*kmsg.DescribeClusterResponse)
	out := map[int32]string{}
	for _, b := range resp.Brokers {
		out[b.NodeID] = Endpoint{Host: b.Host, Port: int(b.Port)}.Addr()
	}
	return out, nil
}
