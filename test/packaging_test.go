package test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"spool/test/harness"
)

// Docker does not run where CI does, so the packaging files are checked by
// what can be run here: the compose file's commands and the image's default
// command start as local processes, with host names and 0.0.0.0 mapped to
// a loopback address of their own (fixed ports on a distinct 127.x.y.z, so
// nothing collides with other tests or `make run`).

// loopbackPrefix is a random 127.x.y. for one test's hosts.
func loopbackPrefix() string {
	return fmt.Sprintf("127.%d.%d.", 1+rand.IntN(250), 1+rand.IntN(250))
}

func repoFile(t *testing.T, parts ...string) string {
	t.Helper()
	path := filepath.Join(append([]string{".."}, parts...)...)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type composeService struct {
	Hostname string   `yaml:"hostname"`
	Command  []string `yaml:"command"`
	Ports    []string `yaml:"ports"`
	Volumes  []string `yaml:"volumes"`
	Build    struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
}

var composeDefault = regexp.MustCompile(`\$\{[A-Z_]+:-([^}]*)\}`)

// localArgs rewrites a container command line for a local process: the
// compose variables take their defaults, host names and wildcard addresses
// become loopback addresses, the data volume a temporary directory.
func localArgs(args []string, hosts map[string]string, self, dataDir string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		a = composeDefault.ReplaceAllString(a, "$1")
		a = strings.ReplaceAll(a, "/var/lib/spool", dataDir)
		a = strings.ReplaceAll(a, "0.0.0.0", hosts[self])
		a = strings.ReplaceAll(a, "localhost", hosts[self])
		for h, ip := range hosts {
			a = regexp.MustCompile(`\b`+h+`\b`).ReplaceAllString(a, ip)
		}
		out[i] = a
	}
	return out
}

// TestComposeCluster starts deploy/compose.yaml's three nodes as local
// processes and checks that they form a healthy cluster that replicates.
func TestComposeCluster(t *testing.T) {
	t.Parallel()
	var doc struct {
		Services map[string]composeService `yaml:"services"`
		Volumes  map[string]any            `yaml:"volumes"`
	}
	if err := yaml.Unmarshal([]byte(repoFile(t, "deploy", "compose.yaml")), &doc); err != nil {
		t.Fatalf("deploy/compose.yaml: %v", err)
	}
	names := []string{"spool1", "spool2", "spool3"}
	if len(doc.Services) != 3 {
		t.Fatalf("compose services: %d, want 3", len(doc.Services))
	}
	prefix := loopbackPrefix()
	hosts := map[string]string{}
	for i, name := range names {
		hosts[name] = fmt.Sprintf("%s%d", prefix, i+1)
	}
	dir := t.TempDir()
	var external []string
	var nodes []*harness.Node
	for i, name := range names {
		svc, ok := doc.Services[name]
		if !ok || svc.Hostname != name || len(svc.Command) == 0 || svc.Command[0] != "server" {
			t.Fatalf("service %s: %+v", name, svc)
		}
		checkComposeService(t, name, svc, doc.Volumes)
		port := fmt.Sprintf("%d9092", i+1)
		addr := hosts[name] + ":" + port
		external = append(external, addr)
		n := harness.NewProcess(t, addr)
		n.StartArgs(localArgs(svc.Command[1:], hosts, name, filepath.Join(dir, fmt.Sprint("data-", i+1)))...)
		nodes = append(nodes, n)
		defer func() {
			if t.Failed() {
				t.Logf("%s output:\n%s", name, n.Output())
			}
		}()
	}
	for _, n := range nodes {
		n.WaitServing(90 * time.Second)
	}
	r := newCLIRunner(t, strings.Join(external, ","))
	out, code := r.run([]string{"cluster", "health", "--wait", "--timeout", "2m"}, "")
	if code != 0 || !strings.Contains(out, "Brokers:  [1 2 3]") {
		t.Fatalf("cluster health: exit %d\n%s", code, out)
	}
	// default.replication.factor=3 and min.insync.replicas=2 from the file.
	if out, code := r.run([]string{"topic", "create", "orders", "--partitions", "3"}, ""); code != 0 || !strings.Contains(out, "replication factor 3") {
		t.Fatalf("topic create: exit %d\n%s", code, out)
	}
	if out, code := r.run([]string{"produce", "orders", "--timeout", "1m"}, "a\nb\nc\n"); code != 0 {
		t.Fatalf("produce: exit %d\n%s", code, out)
	}
	if out, code := r.run([]string{"consume", "orders", "--from-beginning", "--exit-at-end"}, ""); code != 0 || len(strings.Fields(out)) != 3 {
		t.Fatalf("consume: exit %d\n%s", code, out)
	}
}

// checkComposeService checks what the local run cannot: the image build,
// the published port and the data volume.
func checkComposeService(t *testing.T, name string, svc composeService, volumes map[string]any) {
	t.Helper()
	if svc.Build.Context != ".." || svc.Build.Dockerfile != "Dockerfile" {
		t.Errorf("%s: build %+v, want context .. and the repository's Dockerfile", name, svc.Build)
	}
	args := strings.Join(svc.Command, " ")
	ext := regexp.MustCompile(`EXTERNAL://0\.0\.0\.0:(\d+)`).FindStringSubmatch(args)
	adv := regexp.MustCompile(`EXTERNAL://localhost:(\d+)`).FindStringSubmatch(args)
	if ext == nil || adv == nil || ext[1] != adv[1] || len(svc.Ports) != 1 || svc.Ports[0] != ext[1]+":"+ext[1] {
		t.Errorf("%s: the EXTERNAL listener, its advertised port and the published port must agree: %v / %v / %v", name, ext, adv, svc.Ports)
	}
	if len(svc.Volumes) != 1 || svc.Volumes[0] != name+":/var/lib/spool" {
		t.Errorf("%s: volumes %v, want %s:/var/lib/spool", name, svc.Volumes, name)
	}
	if _, ok := volumes[name]; !ok {
		t.Errorf("volume %s is not declared", name)
	}
}

// dockerfile is the Dockerfile's instructions, continuation lines joined,
// grouped by stage.
func dockerfile(t *testing.T) [][]string {
	t.Helper()
	var stages [][]string
	text := strings.ReplaceAll(repoFile(t, "Dockerfile"), "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "FROM ") {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("Dockerfile: %q before the first FROM", line)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], line)
	}
	return stages
}

func instruction(stage []string, name string) []string {
	var out []string
	for _, l := range stage {
		if strings.HasPrefix(l, name+" ") {
			out = append(out, strings.TrimSpace(strings.TrimPrefix(l, name)))
		}
	}
	return out
}

// TestDockerfile checks the image's build against the Makefile and starts
// its default command.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	stages := dockerfile(t)
	if len(stages) != 2 {
		t.Fatalf("Dockerfile: %d stages, want a build stage and a runtime stage", len(stages))
	}
	build, final := stages[0], stages[1]
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(repoFile(t, "go.mod"))
	if from := instruction(build, "FROM"); len(from) != 1 || !strings.Contains(from[0], "golang:"+goVersion[1]) || !strings.HasSuffix(from[0], "AS build") {
		t.Errorf("build stage FROM %v: want golang:%s ... AS build", from, goVersion[1])
	}
	if !strings.Contains(strings.Join(instruction(build, "RUN"), "\n"), "make static VERSION=") {
		t.Errorf("the build stage must build with `make static` (the Makefile's target), passing the version")
	}
	if user := instruction(final, "USER"); len(user) != 1 || strings.HasPrefix(user[0], "0") || strings.HasPrefix(user[0], "root") {
		t.Errorf("runtime USER %v: want a non-root user", user)
	}
	if vol := instruction(final, "VOLUME"); len(vol) != 1 || !strings.Contains(vol[0], "/var/lib/spool") {
		t.Errorf("runtime VOLUME %v: want /var/lib/spool", vol)
	}
	if !strings.Contains(strings.Join(instruction(final, "COPY"), "\n"), "--from=build /src/bin/spool /usr/local/bin/spool") {
		t.Errorf("the runtime stage must copy the built binary to /usr/local/bin/spool")
	}
	// The Makefile target the image runs builds a static binary with the
	// version linked in.
	out, err := exec.Command("make", "-C", "..", "-n", "static", "VERSION=v9.9.9", "COMMIT=abc", "DATE=2000-01-01T00:00:00Z").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "CGO_ENABLED=0") || !strings.Contains(string(out), "-X main.version=v9.9.9") || !strings.Contains(string(out), "-o bin/spool ./cmd/spool") {
		t.Errorf("make -n static: %v\n%s", err, out)
	}
	runDockerCmd(t, final)
}

// runDockerCmd starts the image's default command as a local process.
func runDockerCmd(t *testing.T, final []string) {
	t.Helper()
	cmds := instruction(final, "CMD")
	if len(cmds) != 1 {
		t.Fatalf("runtime CMD: %v", cmds)
	}
	var args []string
	if err := yaml.Unmarshal([]byte(cmds[0]), &args); err != nil || len(args) == 0 || args[0] != "server" {
		t.Fatalf("runtime CMD %s: want a JSON array starting with server (%v)", cmds[0], err)
	}
	hosts := map[string]string{"node": loopbackPrefix() + "1"}
	n := harness.NewProcess(t, hosts["node"]+":9092")
	n.StartArgs(localArgs(args[1:], hosts, "node", t.TempDir())...)
	n.WaitServing(60 * time.Second)
	r := newCLIRunner(t, n.Addr)
	if out, code := r.run([]string{"cluster", "health", "--wait"}, ""); code != 0 {
		t.Errorf("the image's default command: cluster health exit %d\n%s\n%s", code, out, n.Output())
	}
}

// TestSystemdUnit checks the unit with systemd's own verifier (where
// systemd is installed) and that the example configuration it points at is
// valid and starts a node.
func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	unit := repoFile(t, "deploy", "systemd", "spool.service")
	exec1 := regexp.MustCompile(`(?m)^ExecStart=(\S+) server --config (\S+)$`).FindStringSubmatch(unit)
	if exec1 == nil || exec1[1] != "/usr/local/bin/spool" || exec1[2] != "/etc/spool/server.properties" {
		t.Fatalf("ExecStart: %v", exec1)
	}
	if !strings.Contains(unit, "\nUser=spool\n") || !strings.Contains(unit, "\nKillSignal=SIGTERM\n") {
		t.Errorf("the unit must run as the spool user and stop with SIGTERM (controlled shutdown)")
	}
	if sa, err := exec.LookPath("systemd-analyze"); err == nil {
		local := strings.ReplaceAll(unit, exec1[1], harness.Binary(t))
		path := filepath.Join(t.TempDir(), "spool.service")
		if err := os.WriteFile(path, []byte(local), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(sa, "verify", path).CombinedOutput()
		if err != nil || strings.Contains(string(out), "Unknown") {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	} else {
		t.Log("systemd-analyze is not installed: the unit's syntax is not verified here")
	}
	dir := t.TempDir()
	props := repoFile(t, "deploy", "systemd", "server.properties")
	ip := loopbackPrefix() + "1"
	props = strings.NewReplacer("/var/lib/spool", filepath.Join(dir, "data"), "0.0.0.0", ip, "localhost", ip).Replace(props)
	cfg := filepath.Join(dir, "server.properties")
	if err := os.WriteFile(cfg, []byte(props), 0o644); err != nil {
		t.Fatal(err)
	}
	// The install steps in the unit's comment: format, then start.
	if out, code := harness.Run(t, "storage", "format", "--config", cfg, "--cluster-id", "TckQFHxIr5IfwDB-ns8agg"); code != 0 {
		t.Fatalf("storage format with the example config: exit %d\n%s", code, out)
	}
	n := harness.NewProcess(t, ip+":9092")
	n.StartArgs("--config", cfg)
	n.WaitServing(60 * time.Second)
}
