package test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"spool/test/harness"
)

// writeProps writes a properties file and returns its path.
func writeProps(t *testing.T, props map[string]string) string {
	t.Helper()
	var b strings.Builder
	for k, v := range props {
		fmt.Fprintf(&b, "%s=%s\n", k, v)
	}
	path := filepath.Join(t.TempDir(), "server.properties")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func baseProps(t *testing.T) map[string]string {
	port, cport := harness.FreePort(t), harness.FreePort(t)
	return map[string]string{
		"process.roles":             "broker,controller",
		"node.id":                   "1",
		"listeners":                 fmt.Sprintf("PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d", port, cport),
		"controller.listener.names": "CONTROLLER",
		"controller.quorum.voters":  fmt.Sprintf("1@127.0.0.1:%d", cport),
		"log.dirs":                  filepath.Join(t.TempDir(), "data"),
	}
}

const testClusterID = "q1Sh-9_ISia_zwGINzRvyQ"

func TestConfigErrorsExit2(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, nil, 0o644)

	cases := []struct {
		name   string
		change func(p map[string]string)
		want   string
	}{
		{"unknown role", func(p map[string]string) { p["process.roles"] = "broker,oracle" }, `process.roles: invalid value "broker,oracle": item "oracle" must be one of broker, controller`},
		{"missing node.id", func(p map[string]string) { delete(p, "node.id") }, "node.id: must be set to a non-negative id"},
		{"missing roles", func(p map[string]string) { delete(p, "process.roles") }, "process.roles: must be set"},
		{"controller without its listener", func(p map[string]string) {
			p["listeners"] = strings.Split(p["listeners"], ",")[0]
		}, "listeners: the controller role needs a listener named CONTROLLER"},
		{"controller not a voter", func(p map[string]string) { p["node.id"] = "7" }, "this controller (node.id 7) is not one of the voters"},
		{"listener not in security map", func(p map[string]string) {
			p["listeners"] = strings.Replace(p["listeners"], "PLAINTEXT://", "CLIENTS://", 1)
		}, "listeners: listener CLIENTS is not in listener.security.protocol.map"},
		{"bad integer", func(p map[string]string) { p["num.partitions"] = "many" }, `num.partitions: invalid value "many": "many" is not a valid int`},
		{"rule broken", func(p map[string]string) { p["num.partitions"] = "0" }, `num.partitions: invalid value "0": must be at least 1`},
		{"unknown replica selector", func(p map[string]string) { p["replica.selector.class"] = "com.example.NearestSelector" },
			`replica.selector.class: invalid value "com.example.NearestSelector": must be one of , org.apache.kafka.common.replica.LeaderSelector, org.apache.kafka.common.replica.RackAwareReplicaSelector`},
		{"port in use", func(p map[string]string) {
			p["listeners"] = strings.Replace(p["listeners"], strings.Split(strings.TrimPrefix(strings.Split(p["listeners"], ",")[0], "PLAINTEXT://"), ",")[0], busy.Addr().String(), 1)
		}, "cannot listen on " + busy.Addr().String() + " for PLAINTEXT: address already in use"},
		{"unusable log dir", func(p map[string]string) { p["log.dirs"] = filepath.Join(notDir, "data") }, "log dir " + filepath.Join(notDir, "data")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := baseProps(t)
			tc.change(p)
			out, code := harness.Run(t, "server", "--config", writeProps(t, p), "--cluster-id", testClusterID)
			if code != 2 || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, output:\n%s\nwant exit 2 and %q", code, out, tc.want)
			}
		})
	}
}

func TestUnknownKeyIsOnlyAWarning(t *testing.T) {
	t.Parallel()
	p := baseProps(t)
	p["some.future.setting"] = "1"
	out, code := harness.Run(t, "storage", "format", "--config", writeProps(t, p), "--cluster-id", testClusterID)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
}

func TestUnformattedNeedsFormat(t *testing.T) {
	t.Parallel()
	p := baseProps(t)
	path := writeProps(t, p)
	out, code := harness.Run(t, "server", "--config", path)
	if code != 2 || !strings.Contains(out, "is not formatted; run: spool storage format --config FILE --cluster-id") {
		t.Fatalf("exit %d: %s", code, out)
	}
}

func TestStorageCommands(t *testing.T) {
	t.Parallel()
	out, code := harness.Run(t, "storage", "random-uuid")
	id := strings.TrimSpace(out)
	if code != 0 || !regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`).MatchString(id) {
		t.Fatalf("random-uuid: exit %d %q", code, out)
	}
	p := baseProps(t)
	path := writeProps(t, p)

	if out, code := harness.Run(t, "storage", "info", "--config", path); code == 0 || !strings.Contains(out, "not formatted") {
		t.Fatalf("info before format: exit %d %s", code, out)
	}
	if out, code := harness.Run(t, "storage", "format", "--config", path, "--cluster-id", "not-a-uuid"); code != 2 || !strings.Contains(out, "not a 22-character base64url uuid") {
		t.Fatalf("bad cluster id: exit %d %s", code, out)
	}
	if out, code := harness.Run(t, "storage", "format", "--config", path, "--cluster-id", id); code != 0 || !strings.Contains(out, "Formatted") {
		t.Fatalf("format: exit %d %s", code, out)
	}
	meta, err := os.ReadFile(filepath.Join(p["log.dirs"], "meta.properties"))
	if err != nil || !strings.Contains(string(meta), "cluster.id="+id) || !strings.Contains(string(meta), "node.id=1") {
		t.Fatalf("meta.properties: %v\n%s", err, meta)
	}
	if out, code := harness.Run(t, "storage", "format", "--config", path, "--cluster-id", id); code != 2 || !strings.Contains(out, "already formatted") {
		t.Fatalf("second format: exit %d %s", code, out)
	}
	if out, code := harness.Run(t, "storage", "format", "--config", path, "--cluster-id", id, "--ignore-formatted"); code != 0 {
		t.Fatalf("--ignore-formatted: exit %d %s", code, out)
	}
	if out, code := harness.Run(t, "storage", "info", "--config", path); code != 0 || !strings.Contains(out, "cluster.id="+id) {
		t.Fatalf("info: exit %d %s", code, out)
	}

	// The same dirs under another node id, or another cluster id, are refused.
	p["node.id"], p["controller.quorum.voters"] = "2", strings.Replace(p["controller.quorum.voters"], "1@", "2@", 1)
	if out, code := harness.Run(t, "server", "--config", writeProps(t, p)); code != 2 || !strings.Contains(out, "belongs to node.id 1 but this node is node.id 2") {
		t.Fatalf("node id mismatch: exit %d %s", code, out)
	}
	p["node.id"], p["controller.quorum.voters"] = "1", strings.Replace(p["controller.quorum.voters"], "2@", "1@", 1)
	if out, code := harness.Run(t, "server", "--config", writeProps(t, p), "--cluster-id", testClusterID); code != 2 || !strings.Contains(out, "belongs to cluster "+id) {
		t.Fatalf("cluster id mismatch: exit %d %s", code, out)
	}
}
