package config

import (
	"fmt"
	"strings"
)

// Node is the validated, typed view of the configs that decide what this
// process is and where it listens.
type Node struct {
	Broker, Controller bool
	NodeID             int32
	// Listeners are what this process binds; the first broker listener
	// (not a controller listener) serves clients.
	Listeners []Listener
	// Advertised are the broker listeners published in metadata.
	Advertised          []Listener
	ControllerListeners []string
	InterBrokerListener string
	// Voters is the static quorum (controller.quorum.voters); empty for
	// a dynamic quorum, found through BootstrapServers (host:port).
	Voters           []Voter
	BootstrapServers []string
	LogDirs          []string
	MetadataLogDir   string
	Rack             *string
}

// Node checks the cross-key rules (roles, ids, listeners, voters) and returns
// the typed view, or one Problem per rule broken.
func (c *Config) Node() (*Node, []Problem) {
	var ps []Problem
	bad := func(key, format string, args ...any) {
		ps = append(ps, Problem{key, fmt.Sprintf(format, args...)})
	}
	n := &Node{NodeID: int32(c.Int("node.id"))}

	roles := c.List("process.roles")
	if len(roles) == 0 {
		bad("process.roles", "must be set to broker, controller, or broker,controller")
	}
	for _, r := range roles {
		switch strings.ToLower(r) {
		case "broker":
			n.Broker = true
		case "controller":
			n.Controller = true
		}
	}
	if n.NodeID < 0 {
		bad("node.id", "must be set to a non-negative id")
	}

	protoMap, err := ParseProtocolMap(c.Get("listener.security.protocol.map"))
	if err != nil {
		bad("listener.security.protocol.map", "%v", err)
	}
	n.ControllerListeners = upper(c.List("controller.listener.names"))
	n.Listeners, err = ParseListeners(c.Get("listeners"), protoMap, n.ControllerListeners)
	if err != nil {
		bad("listeners", "%v", err)
	}
	if len(n.ControllerListeners) == 0 {
		bad("controller.listener.names", "must name the controller listener (for example CONTROLLER)")
	}
	n.checkListeners(bad)
	if lock := c.Int("group.share.record.lock.duration.ms"); lock < c.Int("group.share.min.record.lock.duration.ms") || lock > c.Int("group.share.max.record.lock.duration.ms") {
		bad("group.share.record.lock.duration.ms", "must be between group.share.min.record.lock.duration.ms and group.share.max.record.lock.duration.ms")
	}

	adv := c.Get("advertised.listeners")
	if adv == "" {
		n.Advertised = n.brokerListeners()
	} else if n.Advertised, err = ParseListeners(adv, protoMap, n.ControllerListeners); err != nil {
		bad("advertised.listeners", "%v", err)
	}
	n.InterBrokerListener = strings.ToUpper(c.Get("inter.broker.listener.name"))
	switch {
	case n.InterBrokerListener != "" && c.IsSet("security.inter.broker.protocol"):
		bad("security.inter.broker.protocol", "set only one of inter.broker.listener.name and security.inter.broker.protocol")
	case c.IsSet("security.inter.broker.protocol"):
		// Kafka's older form: the listener named after the protocol.
		n.InterBrokerListener = strings.ToUpper(c.Get("security.inter.broker.protocol"))
	case n.InterBrokerListener == "" && len(n.brokerListeners()) > 0:
		n.InterBrokerListener = n.brokerListeners()[0].Name
	}

	n.checkQuorum(c, bad)

	n.LogDirs = c.List("log.dirs")
	if len(n.LogDirs) == 0 {
		n.LogDirs = []string{c.Get("log.dir")}
	}
	n.MetadataLogDir = c.Get("metadata.log.dir")
	if n.MetadataLogDir == "" {
		n.MetadataLogDir = n.LogDirs[0]
	}
	if c.IsSet("broker.rack") {
		r := c.Get("broker.rack")
		n.Rack = &r
	}
	return n, ps
}

// checkQuorum reads the static voters or, when there are none, the dynamic
// quorum's bootstrap servers (as Kafka does, voters win when both are set).
func (n *Node) checkQuorum(c *Config, bad func(key, format string, args ...any)) {
	var err error
	if n.Voters, err = ParseVoters(c.Get("controller.quorum.voters")); err != nil {
		bad("controller.quorum.voters", "%v", err)
		return
	}
	if len(n.Voters) > 0 {
		if n.Controller && !n.isVoter() {
			bad("controller.quorum.voters", "this controller (node.id %d) is not one of the voters %s", n.NodeID, c.Get("controller.quorum.voters"))
		}
		return
	}
	if n.BootstrapServers, err = ParseBootstrapServers(c.Get("controller.quorum.bootstrap.servers")); err != nil {
		bad("controller.quorum.bootstrap.servers", "%v", err)
	} else if len(n.BootstrapServers) == 0 {
		bad("controller.quorum.voters", "must list the controllers as id@host:port, or set controller.quorum.bootstrap.servers (host:port) for a dynamic quorum")
	}
}

// Dynamic reports whether the quorum is dynamic (KIP-853): no static
// voters, controllers found through controller.quorum.bootstrap.servers.
func (n *Node) Dynamic() bool { return len(n.Voters) == 0 }

func (n *Node) checkListeners(bad func(key, format string, args ...any)) {
	if n.Controller {
		found := false
		for _, name := range n.ControllerListeners {
			if _, ok := n.Listener(name); ok {
				found = true
			}
		}
		if !found && len(n.ControllerListeners) > 0 {
			bad("listeners", "the controller role needs a listener named %s", strings.Join(n.ControllerListeners, " or "))
		}
	} else {
		for _, name := range n.ControllerListeners {
			if _, ok := n.Listener(name); ok {
				bad("listeners", "listener %s is a controller listener but this process has no controller role", name)
			}
		}
	}
	if n.Broker && len(n.brokerListeners()) == 0 {
		bad("listeners", "the broker role needs a listener that is not a controller listener")
	}
}

// Listener returns the bound listener called name.
func (n *Node) Listener(name string) (Listener, bool) {
	for _, l := range n.Listeners {
		if strings.EqualFold(l.Name, name) {
			return l, true
		}
	}
	return Listener{}, false
}

// IsControllerListener reports whether name is a controller listener.
func (n *Node) IsControllerListener(name string) bool {
	return contains(n.ControllerListeners, name)
}

func (n *Node) brokerListeners() []Listener {
	var out []Listener
	for _, l := range n.Listeners {
		if !n.IsControllerListener(l.Name) {
			out = append(out, l)
		}
	}
	return out
}

func (n *Node) isVoter() bool {
	for _, v := range n.Voters {
		if v.ID == n.NodeID {
			return true
		}
	}
	return false
}

func upper(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.ToUpper(s)
	}
	return out
}
