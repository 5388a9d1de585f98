package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Listener is one NAME://host:port entry of listeners or advertised.listeners.
type Listener struct {
	Name             string
	Host             string
	Port             int
	SecurityProtocol string
}

// Addr is host:port, suitable for net.Listen and net.Dial.
func (l Listener) Addr() string { return net.JoinHostPort(l.Host, strconv.Itoa(l.Port)) }

func (l Listener) String() string { return l.Name + "://" + l.Addr() }

// ParseListeners parses a listeners value. The security protocol of each is
// looked up in protoMap; a missing entry is an error, except for controller
// listeners, which default to PLAINTEXT as in Kafka.
func ParseListeners(v string, protoMap map[string]string, controllerNames []string) ([]Listener, error) {
	var out []Listener
	seen := map[string]bool{}
	for _, item := range SplitList(v) {
		name, rest, ok := strings.Cut(item, "://")
		if !ok || name == "" {
			return nil, fmt.Errorf("listener %q: expected NAME://host:port", item)
		}
		name = strings.ToUpper(name)
		host, portStr, err := net.SplitHostPort(rest)
		if err != nil {
			return nil, fmt.Errorf("listener %q: %v", item, err)
		}
		port, err := strconv.Atoi(portStr)
		if err != nil || port < 0 || port > 65535 {
			return nil, fmt.Errorf("listener %q: invalid port %q", item, portStr)
		}
		if seen[name] {
			return nil, fmt.Errorf("listener name %s appears twice", name)
		}
		seen[name] = true
		proto, ok := protoMap[name]
		if !ok {
			if !contains(controllerNames, name) {
				return nil, fmt.Errorf("listener %s is not in listener.security.protocol.map", name)
			}
			proto = "PLAINTEXT"
		}
		out = append(out, Listener{Name: name, Host: host, Port: port, SecurityProtocol: proto})
	}
	return out, nil
}

// ParseProtocolMap parses listener.security.protocol.map.
func ParseProtocolMap(v string) (map[string]string, error) {
	m := map[string]string{}
	for _, item := range SplitList(v) {
		name, proto, ok := strings.Cut(item, ":")
		if !ok || name == "" || proto == "" {
			return nil, fmt.Errorf("entry %q: expected NAME:PROTOCOL", item)
		}
		proto = strings.ToUpper(strings.TrimSpace(proto))
		switch proto {
		case "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL":
		default:
			return nil, fmt.Errorf("entry %q: unknown security protocol %s", item, proto)
		}
		m[strings.ToUpper(strings.TrimSpace(name))] = proto
	}
	return m, nil
}

// Voter is one id@host:port entry of controller.quorum.voters.
type Voter struct {
	ID   int32
	Host string
	Port int
}

// Addr is host:port.
func (v Voter) Addr() string { return net.JoinHostPort(v.Host, strconv.Itoa(v.Port)) }

// ParseVoters parses controller.quorum.voters.
func ParseVoters(v string) ([]Voter, error) {
	var out []Voter
	seen := map[int32]bool{}
	for _, item := range SplitList(v) {
		idStr, addr, ok := strings.Cut(item, "@")
		if !ok {
			return nil, fmt.Errorf("voter %q: expected id@host:port", item)
		}
		id, err := strconv.ParseInt(idStr, 10, 32)
		if err != nil || id < 0 {
			return nil, fmt.Errorf("voter %q: invalid id %q", item, idStr)
		}
		host, portStr, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("voter %q: %v", item, err)
		}
		port, err := strconv.Atoi(portStr)
		if err != nil || port <= 0 || port > 65535 {
			return nil, fmt.Errorf("voter %q: invalid port %q", item, portStr)
		}
		if seen[int32(id)] {
			return nil, fmt.Errorf("voter id %d appears twice", id)
		}
		seen[int32(id)] = true
		out = append(out, Voter{ID: int32(id), Host: host, Port: port})
	}
	return out, nil
}

// ParseBootstrapServers parses controller.quorum.bootstrap.servers.
func ParseBootstrapServers(v string) ([]string, error) {
	var out []string
	for _, item := range SplitList(v) {
		host, portStr, err := net.SplitHostPort(item)
		if err != nil {
			return nil, fmt.Errorf("bootstrap server %q: expected host:port", item)
		}
		if port, err := strconv.Atoi(portStr); err != nil || port <= 0 || port > 65535 {
			return nil, fmt.Errorf("bootstrap server %q: invalid port %q", item, portStr)
		}
		out = append(out, net.JoinHostPort(host, portStr))
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
