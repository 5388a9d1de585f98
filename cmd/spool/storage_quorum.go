//go:build linux

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"spool/config"
	"spool/controller"
	"spool/storage"
)

// A dynamic controller quorum (KIP-853) is formatted the way kafka-storage
// formats one: --standalone (this controller is the only voter),
// --initial-controllers (the first voters, each with its metadata log
// directory id) or --no-initial-controllers (this controller joins a
// running quorum and waits to be added). The initial voters are written to
// the metadata log dir; the controller starts its raft log from them.

const initialVotersFile = "bootstrap-voters.json"

type quorumFormat struct {
	standalone, none bool
	initial          string
}

func (q *quorumFormat) set() int {
	n := 0
	for _, b := range []bool{q.standalone, q.none, q.initial != ""} {
		if b {
			n++
		}
	}
	return n
}

// voters resolves the flags for node into the initial voters (nil for
// none) and the metadata log dir's directory id.
func (q *quorumFormat) voters(node *config.Node) ([]controller.Member, string, error) {
	dirID := storage.RandomUUID()
	switch {
	case q.set() > 1:
		return nil, "", usageErrorf("use only one of --standalone, --initial-controllers and --no-initial-controllers")
	case !node.Controller && q.set() > 0:
		return nil, "", usageErrorf("--standalone, --initial-controllers and --no-initial-controllers format controllers; this node has no controller role")
	case !node.Controller:
		return nil, dirID, nil
	case !node.Dynamic() && q.set() > 0:
		return nil, "", usageErrorf("controller.quorum.voters is set (a static quorum); --standalone, --initial-controllers and --no-initial-controllers are for a dynamic quorum (controller.quorum.bootstrap.servers)")
	case !node.Dynamic():
		return nil, dirID, nil
	case q.set() == 0:
		return nil, "", usageErrorf("controller.quorum.voters is not set, so this controller is in a dynamic quorum: give --standalone (a new quorum of this controller alone), --initial-controllers ID@HOST:PORT:DIRECTORY-ID,... or --no-initial-controllers (to be added to a running quorum)")
	case q.standalone:
		self := selfMember(node, dirID)
		if len(self.Endpoints) == 0 {
			return nil, "", usageErrorf("--standalone: this node has no controller listener")
		}
		return []controller.Member{self}, dirID, nil
	case q.initial != "":
		voters, err := parseInitialControllers(q.initial, node)
		if err != nil {
			return nil, "", usageErrorf("--initial-controllers: %v", err)
		}
		for _, v := range voters {
			if v.ID == node.NodeID {
				return voters, v.DirectoryID, nil
			}
		}
		return nil, "", usageErrorf("--initial-controllers does not list this controller (node.id %d)", node.NodeID)
	}
	return nil, dirID, nil
}

// parseInitialControllers parses ID@HOST:PORT:DIRECTORY-ID,... with the
// controller listener named after the first of controller.listener.names.
func parseInitialControllers(s string, node *config.Node) ([]controller.Member, error) {
	var out []controller.Member
	seen := map[int32]bool{}
	for _, item := range config.SplitList(s) {
		idStr, rest, ok := strings.Cut(item, "@")
		i := strings.LastIndex(rest, ":")
		if !ok || i < 0 {
			return nil, fmt.Errorf("%q: expected ID@HOST:PORT:DIRECTORY-ID", item)
		}
		addr, dir := rest[:i], rest[i+1:]
		id, err := strconv.ParseInt(idStr, 10, 32)
		if err != nil || id < 0 {
			return nil, fmt.Errorf("%q: invalid node id %q", item, idStr)
		}
		host, portStr, err := net.SplitHostPort(addr)
		port, perr := strconv.Atoi(portStr)
		if err != nil || perr != nil || port <= 0 || port > 65535 {
			return nil, fmt.Errorf("%q: expected HOST:PORT before the directory id", item)
		}
		if storage.ValidClusterID(dir) != nil {
			return nil, fmt.Errorf("%q: directory id %q is not a 22-character base64url uuid", item, dir)
		}
		if seen[int32(id)] {
			return nil, fmt.Errorf("node id %d appears twice", id)
		}
		seen[int32(id)] = true
		out = append(out, controller.Member{ID: int32(id), DirectoryID: dir,
			Endpoints: []controller.Endpoint{{Name: node.ControllerListeners[0], Host: host, Port: port}}})
	}
	if len(out) == 0 {
		return nil, errors.New("no controllers given")
	}
	return out, nil
}

// selfMember is this controller as a quorum member: its controller
// listeners as advertised (else as bound; an empty host is this machine's
// name, as in Kafka).
func selfMember(node *config.Node, dirID string) controller.Member {
	m := controller.Member{ID: node.NodeID, DirectoryID: dirID}
	for _, name := range node.ControllerListeners {
		l, ok := config.Listener{}, false
		for _, a := range node.Advertised {
			if strings.EqualFold(a.Name, name) {
				l, ok = a, true
			}
		}
		if !ok {
			if l, ok = node.Listener(name); !ok {
				continue
			}
		}
		host := l.Host
		if host == "" || host == "0.0.0.0" || host == "::" {
			host, _ = os.Hostname()
		}
		m.Endpoints = append(m.Endpoints, controller.Endpoint{Name: strings.ToUpper(name), Host: host, Port: l.Port})
	}
	return m
}

func writeInitialVoters(dir string, voters []controller.Member) error {
	if len(voters) == 0 {
		return nil
	}
	raw, _ := json.MarshalIndent(struct {
		Voters []controller.Member `json:"voters"`
	}{voters}, "", "  ")
	return storage.WriteFileAtomic(filepath.Join(dir, initialVotersFile), raw)
}

func readInitialVoters(dir string) ([]controller.Member, error) {
	raw, err := os.ReadFile(filepath.Join(dir, initialVotersFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f struct {
		Voters []controller.Member `json:"voters"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, initialVotersFile), err)
	}
	return f.Voters, nil
}
