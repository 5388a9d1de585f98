package broker

import (
	"context"
	"net"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/config"
	"spool/controller/metadata"
	"spool/protocol"
)

// In a dynamic controller quorum (KIP-853) a broker knows only
// controller.quorum.bootstrap.servers; the voters change while it runs. It
// asks a controller listener to describe the controllers (DescribeCluster
// for controllers, KIP-919) and follows the answer: every few seconds
// while all is well, at once when the controller it used stops answering.
// The bootstrap servers stay in the list, so a broker whose every known
// voter has gone can start over from them.

const (
	discoveryEvery   = 5 * time.Second
	discoveryBackoff = time.Second
)

type controllerDiscovery struct {
	bootstrap []string
	listener  string       // the controller listener's name
	last      atomic.Int64 // unix nanos of the last lookup
	running   atomic.Bool
}

// seeds are the voters found (with node ids) followed by the bootstrap
// servers not among them, under negative placeholder ids.
func (d *controllerDiscovery) seeds(found []config.Voter) []config.Voter {
	out := append([]config.Voter(nil), found...)
	have := map[string]bool{}
	for _, v := range found {
		have[v.Addr()] = true
	}
	for i, addr := range d.bootstrap {
		if have[addr] {
			continue
		}
		host, portStr, _ := net.SplitHostPort(addr)
		port, _ := strconv.Atoi(portStr)
		out = append(out, config.Voter{ID: int32(-1 - i), Host: host, Port: port})
	}
	return out
}

// maybeRefresh looks the controllers up again in the background when the
// last lookup is older than discoveryEvery (discoveryBackoff after a
// failure).
func (cc *controllerClient) maybeRefresh(failed bool) {
	d := cc.discovery
	if d == nil {
		return
	}
	every := discoveryEvery
	if failed {
		every = discoveryBackoff
	}
	if time.Since(time.Unix(0, d.last.Load())) < every || !d.running.CompareAndSwap(false, true) {
		return
	}
	d.last.Store(time.Now().UnixNano())
	go func() {
		defer d.running.Store(false)
		cc.refresh()
	}()
}

// refresh asks each known controller address in turn for the controllers
// and installs the first answer, pointing the client at the leader.
func (cc *controllerClient) refresh() {
	cc.mu.Lock()
	addrs := make([]string, 0, len(cc.voters))
	for _, v := range cc.voters {
		addrs = append(addrs, v.Addr())
	}
	cc.mu.Unlock()
	for _, addr := range addrs {
		found, leader, ok := cc.describeControllers(addr)
		if !ok || len(found) == 0 {
			continue
		}
		cc.install(cc.discovery.seeds(found))
		cc.hint(leader)
		return
	}
}

func (cc *controllerClient) describeControllers(addr string) ([]config.Voter, int32, bool) {
	cl := protocol.NewClientDial(addr, cc.id+"-discovery", cc.dial)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := kmsg.NewPtrDescribeClusterRequest()
	req.SetVersion(1)
	req.EndpointType = 2 // controllers
	raw, err := cl.Request(ctx, req)
	if err != nil {
		return nil, -1, false
	}
	resp := raw.(*kmsg.DescribeClusterResponse)
	if resp.ErrorCode != 0 {
		return nil, -1, false
	}
	var out []config.Voter
	for _, b := range resp.Brokers {
		out = append(out, config.Voter{ID: b.NodeID, Host: b.Host, Port: int(b.Port)})
	}
	return out, resp.ControllerID, true
}

// install replaces the voter list, closing connections to voters that left
// or moved.
func (cc *controllerClient) install(voters []config.Voter) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	next := map[int32]string{}
	for _, v := range voters {
		next[v.ID] = v.Addr()
	}
	for id, c := range cc.conns {
		if next[id] != c.Addr() {
			c.Close()
			delete(cc.conns, id)
		}
	}
	cc.voters = voters
}

// learn follows a configuration change read from the metadata log: the
// voter it adds (at its controller listener) joins the list, the ones it
// removes leave it.
func (cc *controllerClient) learn(added metadata.QuorumMember, ok bool, removed []int32) {
	if cc.discovery == nil {
		return
	}
	cc.mu.Lock()
	var found []config.Voter
	for _, v := range cc.voters {
		if v.ID >= 0 && !slices.Contains(removed, v.ID) && !(ok && v.ID == added.ID) {
			found = append(found, v)
		}
	}
	if ok {
		if e := added.EndpointFor(cc.discovery.listener); e.Port != 0 {
			found = append(found, config.Voter{ID: added.ID, Host: e.Host, Port: e.Port})
		}
	}
	cc.mu.Unlock()
	cc.install(cc.discovery.seeds(found))
}
