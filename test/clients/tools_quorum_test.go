package clients_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

var toolMetadataQuorumDynamic = &check{
	name:    "kafka-metadata-quorum-dynamic",
	family:  "Kafka tools",
	what:    "on a dynamic quorum of its own (one controller formatted --standalone, one --no-initial-controllers): add-controller, describe --status showing both voters, remove-controller, then one voter again",
	timeout: 3 * time.Minute,
	run:     runToolMetadataQuorumDynamic,
}

// runToolMetadataQuorumDynamic changes the voters of a dynamic quorum of
// its own (the shared deployments have static ones) with Kafka's tool:
// add-controller through a controller listener, remove-controller through
// a broker, which forwards it.
func runToolMetadataQuorumDynamic(ctx context.Context, k *checkCell) error {
	s := &softTB{TB: k.t}
	var first, second *harness.Node
	var secondDir string
	if err := guard(s, func() {
		dir := s.TempDir()
		first = dynamicQuorumNode(s, dir, 1, "broker,controller", "")
		second = dynamicQuorumNode(s, dir, 2, "controller", first.CtrlAddr)
		formatNode(s, first, "--standalone")
		formatNode(s, second, "--no-initial-controllers")
		first.StartArgs("--config", first.ConfigFile)
		second.StartArgs("--config", second.ConfigFile)
		first.WaitServing(60 * time.Second)
		waitControllerAnswers(s, second.CtrlAddr)
		secondDir = directoryID(s, second.Dir)
	}); err != nil {
		return err
	}
	defer first.Kill()
	defer second.Kill()
	if _, err := k.tool(ctx, "", "kafka-metadata-quorum", "--bootstrap-controller", first.CtrlAddr, "--command-config", second.ConfigFile, "add-controller"); err != nil {
		return err
	}
	voter2 := fmt.Sprintf(`\{"id": 2, "directoryId": "%s", "endpoints": \["CONTROLLER://%s"\]\}`, secondDir, strings.ReplaceAll(second.CtrlAddr, ".", `\.`))
	if err := eventually(ctx, 30*time.Second, func() error {
		out, err := k.tool(ctx, "", "kafka-metadata-quorum", "--bootstrap-server", first.Addr, "describe", "--status")
		if err != nil {
			return err
		}
		return expect("describe --status after add-controller", out, `CurrentVoters:\s+\[\{"id": 1, "directoryId": "[^"]+"`, voter2)
	}); err != nil {
		return err
	}
	if _, err := k.tool(ctx, "", "kafka-metadata-quorum", "--bootstrap-server", first.Addr, "remove-controller", "--controller-id", "2", "--controller-directory-id", secondDir); err != nil {
		return err
	}
	out, err := k.tool(ctx, "", "kafka-metadata-quorum", "--bootstrap-controller", first.CtrlAddr, "describe", "--status")
	if err != nil {
		return err
	}
	if strings.Contains(out, `"id": 2`) {
		return fmt.Errorf("controller 2 is still a voter after remove-controller:\n%s", tail(out, 600))
	}
	return expect("describe --status after remove-controller", out, `CurrentVoters:\s+\[\{"id": 1, `)
}

// dynamicQuorumNode writes the properties of a node whose quorum is found
// through controller.quorum.bootstrap.servers (its own controller
// listener when bootstrap is empty).
func dynamicQuorumNode(t *softTB, dir string, id int, roles, bootstrap string) *harness.Node {
	n := harness.NewProcess(t, "")
	n.ID, n.Dir = id, filepath.Join(dir, fmt.Sprintf("node%d", id))
	var listeners []string
	if strings.Contains(roles, "broker") {
		n.Addr = fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
		listeners = append(listeners, "PLAINTEXT://"+n.Addr)
	}
	n.CtrlAddr = fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	listeners = append(listeners, "CONTROLLER://"+n.CtrlAddr)
	if bootstrap == "" {
		bootstrap = n.CtrlAddr
	}
	props := fmt.Sprintf("process.roles=%s\nnode.id=%d\ncontroller.quorum.bootstrap.servers=%s\nlisteners=%s\ncontroller.listener.names=CONTROLLER\nlog.dirs=%s\ngroup.initial.rebalance.delay.ms=0\n",
		roles, id, bootstrap, strings.Join(listeners, ","), n.Dir)
	n.ConfigFile = filepath.Join(dir, fmt.Sprintf("node%d.properties", id))
	if err := os.WriteFile(n.ConfigFile, []byte(props), 0o644); err != nil {
		t.Fatal(err)
	}
	return n
}

func formatNode(t *softTB, n *harness.Node, flag string) {
	if out, code := harness.Run(t, "storage", "format", "--config", n.ConfigFile, "--cluster-id", "q1Sh-9_ISia_zwGINzRvyQ", flag); code != 0 {
		t.Fatalf("format node %d: exit %d: %s", n.ID, code, out)
	}
}

func waitControllerAnswers(t *softTB, addr string) {
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, err := harness.Request(addr, kmsg.NewPtrApiVersionsRequest(), 2*time.Second); err == nil {
			return
		}
	}
	t.Fatalf("controller %s does not answer", addr)
}

// directoryID reads directory.id from dir's meta.properties.
func directoryID(t *softTB, dir string) string {
	raw, err := os.ReadFile(filepath.Join(dir, "meta.properties"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "directory.id="); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no directory.id in %s", dir)
	return ""
}
