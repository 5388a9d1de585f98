//go:build linux

package main

import (
	"fmt"
	"net"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/admin"
	"spool/authz"
	"spool/console"
	"spool/controller/metadata"
	"spool/security"
)

// newConsole builds the web console over the node's parts; it reads
// through a Kafka client on the node's inter-broker listener with the
// node's own inter-broker security.
func (n *node) newConsole() *console.Console {
	src := console.Sources{ClusterID: n.clusterID, NodeID: n.cfg.NodeID, ReadOnly: n.static.Bool("http.console.read.only"),
		Unauthenticated: n.http.settings.Auth == admin.AuthNone}
	if host, _, err := net.SplitHostPort(n.http.settings.Addr); err == nil && host != "" {
		src.KnownHosts = append(src.KnownHosts, host)
	}
	if h, err := os.Hostname(); err == nil {
		src.KnownHosts = append(src.KnownHosts, h)
	}
	src.Image = func() *metadata.Image {
		switch {
		case n.brk != nil:
			return n.brk.Image()
		case n.ctrl != nil:
			return n.ctrl.Image()
		}
		return nil
	}
	if n.ctrl != nil {
		src.Quorum = n.ownQuorum
	}
	if n.authz.Enabled() {
		src.Authorize = func(p security.Principal, host string, op kmsg.ACLOperation, rt kmsg.ACLResourceType, name string) bool {
			img := src.Image()
			if img == nil {
				return false
			}
			return n.authz.Authorize(img.ACLs, p, host, authz.Action{Op: op, Type: rt, Name: name})
		}
	}
	if n.brk != nil {
		src.Traffic = func() console.Traffic {
			var t console.Traffic
			for _, tt := range n.brk.Traffic() {
				t.BytesIn += int64(tt.BytesIn)
				t.RecordsIn += int64(tt.RecordsIn)
				t.BytesOut += int64(tt.BytesOut)
			}
			return t
		}
		src.NewClient = n.consoleClient
	}
	return console.New(src, n.log)
}

// consoleClient is a client seeded with this broker's advertised
// inter-broker address, the name its certificate is issued for.
func (n *node) consoleClient(opts ...kgo.Opt) (*kgo.Client, error) {
	var seed string
	for _, l := range n.advertised() {
		if l.Name == n.cfg.InterBrokerListener {
			seed = l.Addr()
		}
	}
	if seed == "" {
		return nil, fmt.Errorf("no advertised address for inter.broker.listener.name %s", n.cfg.InterBrokerListener)
	}
	base := []kgo.Opt{kgo.SeedBrokers(seed), kgo.MetadataMinAge(500 * time.Millisecond), kgo.RetryTimeout(5 * time.Second)}
	if n.sec.interBrokerDial != nil {
		base = append(base, kgo.Dialer(n.sec.interBrokerDial))
	}
	return kgo.NewClient(append(base, opts...)...)
}

// ownQuorum is this controller's raft state, for the console's overview
// when DescribeQuorum cannot be asked.
func (n *node) ownQuorum() (console.Quorum, error) {
	s, err := n.ctrl.Stats()
	if err != nil {
		return console.Quorum{}, err
	}
	q := console.Quorum{Source: "controller", LeaderID: s.LeaderID, Epoch: int64(s.Term), HighWatermark: int64(s.CommitIndex), Voters: []console.Voter{}, Observers: []console.Voter{}}
	lags := map[int32]console.Voter{}
	for _, v := range s.Voters {
		lags[v.ID] = console.Voter{ID: v.ID, EndOffset: int64(v.MatchIndex), Lag: int64(v.Lag)}
	}
	if n.cfg.Dynamic() {
		for _, v := range s.Voters {
			q.Voters = append(q.Voters, lags[v.ID])
		}
	}
	for _, v := range n.cfg.Voters {
		if l, ok := lags[v.ID]; ok {
			q.Voters = append(q.Voters, l)
		} else {
			q.Voters = append(q.Voters, console.Voter{ID: v.ID, EndOffset: -1, Lag: -1})
		}
	}
	return q, nil
}
