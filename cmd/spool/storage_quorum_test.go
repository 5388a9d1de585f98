//go:build linux

package main

import (
	"strings"
	"testing"

	"spool/config"
)

func TestParseInitialControllers(t *testing.T) {
	node := &config.Node{NodeID: 1, Controller: true, ControllerListeners: []string{"CONTROLLER"}}
	got, err := parseInitialControllers("1@h1:9093:AAAAAAAAAAAAAAAAAAAAAQ,2@[::1]:9094:AAAAAAAAAAAAAAAAAAAAAg", node)
	if err != nil || len(got) != 2 || got[1].ID != 2 || got[1].Endpoints[0].Host != "::1" || got[1].Endpoints[0].Port != 9094 ||
		got[0].DirectoryID != "AAAAAAAAAAAAAAAAAAAAAQ" || got[0].Endpoints[0].Name != "CONTROLLER" {
		t.Fatalf("%+v %v", got, err)
	}
	for in, want := range map[string]string{
		"1@h1:9093":                        "expected HOST:PORT before the directory id",
		"x@h1:9093:AAAAAAAAAAAAAAAAAAAAAQ": "invalid node id",
		"1@h1:9093:short":                  "not a 22-character",
		"1@h1:9093:AAAAAAAAAAAAAAAAAAAAAQ,1@h2:9093:AAAAAAAAAAAAAAAAAAAAAg": "appears twice",
		"": "no controllers given",
	} {
		if _, err := parseInitialControllers(in, node); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}

// The format flags follow kafka-storage's rules.
func TestQuorumFormatRules(t *testing.T) {
	dynamic := &config.Node{NodeID: 1, Controller: true, ControllerListeners: []string{"CONTROLLER"},
		Listeners: []config.Listener{{Name: "CONTROLLER", Host: "127.0.0.1", Port: 9093}}}
	static := &config.Node{NodeID: 1, Controller: true, ControllerListeners: []string{"CONTROLLER"}, Voters: []config.Voter{{ID: 1, Host: "h", Port: 1}}}
	broker := &config.Node{NodeID: 2, Broker: true}
	for _, c := range []struct {
		q    quorumFormat
		node *config.Node
		want string // error text; "" for success
	}{
		{quorumFormat{}, dynamic, "give --standalone"},
		{quorumFormat{standalone: true, none: true}, dynamic, "only one of"},
		{quorumFormat{standalone: true}, static, "static quorum"},
		{quorumFormat{none: true}, broker, "no controller role"},
		{quorumFormat{initial: "2@h:1:AAAAAAAAAAAAAAAAAAAAAQ"}, dynamic, "does not list this controller"},
		{quorumFormat{standalone: true}, dynamic, ""},
		{quorumFormat{none: true}, dynamic, ""},
		{quorumFormat{}, static, ""},
		{quorumFormat{}, broker, ""},
	} {
		voters, dirID, err := c.q.voters(c.node)
		switch {
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v: %v, want %q", c.q, err, c.want)
		case c.want == "" && (err != nil || dirID == ""):
			t.Errorf("%+v: %v %q", c.q, err, dirID)
		case c.want == "" && c.q.standalone && (len(voters) != 1 || voters[0].DirectoryID != dirID || voters[0].Endpoints[0].Addr() != "127.0.0.1:9093"):
			t.Errorf("standalone voters %+v (dir %s)", voters, dirID)
		}
	}
}
