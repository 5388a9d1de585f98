package harness

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Cluster is several spool processes sharing one cluster id.
type Cluster struct {
	Nodes []*Node
}

// NewCluster describes a cluster of one node per roles entry ("broker",
// "controller" or "broker,controller"): node i gets node.id i+1, a client
// listener if it is a broker, and a controller listener if it is a
// controller; every node lists all controllers as voters. extra applies to
// every node.
func NewCluster(t testing.TB, roles []string, extra map[string]string) *Cluster {
	t.Helper()
	return NewClusterIn(t, roles, nil, extra)
}

// NewClusterIn is NewCluster with node i in network namespace netns[i],
// listening on its address there, hosts[i], on ports 9092 (client) and
// 9093 (controller): the address is the namespace's own, so nothing else
// can hold them. Nil netns is NewCluster on loopback.
func NewClusterIn(t testing.TB, roles []string, netns [][2]string, extra map[string]string) *Cluster {
	t.Helper()
	dir := t.TempDir()
	c := &Cluster{}
	var voters []string
	for i, r := range roles {
		n := &Node{t: t, ID: i + 1, Dir: filepath.Join(dir, fmt.Sprintf("node%d", i+1)), ClusterID: "q1Sh-9_ISia_zwGINzRvyQ"}
		client, ctrl := func() string { return fmt.Sprintf("127.0.0.1:%d", FreePort(t)) }, func() string { return fmt.Sprintf("127.0.0.1:%d", FreePort(t)) }
		if netns != nil {
			n.NetNS = netns[i][0]
			host := netns[i][1]
			client, ctrl = func() string { return host + ":9092" }, func() string { return host + ":9093" }
		}
		if strings.Contains(r, "broker") {
			n.Addr = client()
		}
		if strings.Contains(r, "controller") {
			n.CtrlAddr = ctrl()
			voters = append(voters, fmt.Sprintf("%d@%s", n.ID, n.CtrlAddr))
		}
		c.Nodes = append(c.Nodes, n)
	}
	for i, n := range c.Nodes {
		var listeners []string
		if n.Addr != "" {
			listeners = append(listeners, "PLAINTEXT://"+n.Addr)
		}
		if n.CtrlAddr != "" {
			listeners = append(listeners, "CONTROLLER://"+n.CtrlAddr)
		}
		n.Props = map[string]string{
			"process.roles":             roles[i],
			"node.id":                   fmt.Sprint(n.ID),
			"listeners":                 strings.Join(listeners, ","),
			"controller.listener.names": "CONTROLLER",
			"controller.quorum.voters":  strings.Join(voters, ","),
			"log.dirs":                  n.Dir,
		}
		for k, v := range extra {
			n.Props[k] = v
		}
		n.ConfigFile = filepath.Join(dir, fmt.Sprintf("node%d.properties", n.ID))
		n.writeConfig()
	}
	return c
}

// Start starts every node and waits until every broker serves clients.
func (c *Cluster) Start() {
	for _, n := range c.Nodes {
		n.StartArgs("--config", n.ConfigFile, "--cluster-id", n.ClusterID)
	}
	for _, n := range c.Nodes {
		if n.Addr != "" {
			n.WaitServing(60 * time.Second)
		}
	}
}

// Brokers are the nodes with a client listener.
func (c *Cluster) Brokers() []*Node {
	var out []*Node
	for _, n := range c.Nodes {
		if n.Addr != "" {
			out = append(out, n)
		}
	}
	return out
}

// BootstrapAddrs lists every broker's client address.
func (c *Cluster) BootstrapAddrs() []string {
	var out []string
	for _, n := range c.Brokers() {
		out = append(out, n.Addr)
	}
	return out
}

// Node returns the node with node.id id.
func (c *Cluster) Node(id int) *Node { return c.Nodes[id-1] }
