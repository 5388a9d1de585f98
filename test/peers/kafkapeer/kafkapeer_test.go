package kafkapeer

import (
	"archive/zip"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func admin(t *testing.T, addrs []string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// One node serves clients and Kafka's tools; SIGTERM stops it cleanly.
func TestSingleNode(t *testing.T) {
	p, err := Start(Options{Overrides: map[string]string{"num.partitions": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	adm := admin(t, p.Addrs)
	res, err := adm.CreateTopics(ctx, -1, -1, nil, "peer-topic")
	if err == nil {
		err = res["peer-topic"].Err
	}
	if err != nil {
		t.Fatal(err)
	}
	if n := res["peer-topic"].NumPartitions; n != 2 {
		t.Errorf("num.partitions override: topic has %d partitions, want 2", n)
	}
	out, err := Tool(ctx, "kafka-topics", "--bootstrap-server", p.Addr(), "--list").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "peer-topic") {
		t.Errorf("kafka-topics --list: %v\n%s", err, out)
	}
	if pids := p.Pids(); len(pids) != 1 {
		t.Errorf("Pids = %v, want one JVM", pids)
	}
	if err := p.Stop(); err != nil {
		t.Errorf("stop: %v\n%s", err, p.Log())
	}
}

// Three nodes form one cluster that places RF=3 topics with a full ISR.
func TestThreeNodes(t *testing.T) {
	p := StartT(t, Options{Nodes: 3})
	if len(p.Addrs) != 3 || len(p.Pids()) != 3 {
		t.Fatalf("addrs %v pids %v", p.Addrs, p.Pids())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	adm := admin(t, p.Addrs)
	if _, err := adm.CreateTopics(ctx, 3, 3, nil, "rf3"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		md, err := adm.Metadata(ctx, "rf3")
		if err == nil && len(md.Brokers) == 3 {
			full := 0
			for _, pd := range md.Topics["rf3"].Partitions {
				if len(pd.ISR) == 3 {
					full++
				}
			}
			if full == 3 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("rf3 never had a full ISR on every partition: %v %+v", err, md.Topics["rf3"])
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Without the jars, Start fails naming the make target; nothing is skipped.
func TestNotInstalled(t *testing.T) {
	t.Setenv("SPOOL_KAFKA_PEER", t.TempDir())
	_, err := Start(Options{})
	if !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), "make kafka-peer") {
		t.Fatalf("Start without jars: %v", err)
	}
}

// Every tool name maps to a main class the fetched jars hold, and bin/ has
// a link for it under both names.
func TestToolsResolve(t *testing.T) {
	if err := Installed(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(Dir(), "tool.sh"), "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	classes := map[string]bool{}
	jars, _ := filepath.Glob(filepath.Join(Dir(), "lib", "*.jar"))
	for _, j := range jars {
		z, err := zip.OpenReader(j)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range z.File {
			classes[f.Name] = true
		}
		z.Close()
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 20 {
		t.Fatalf("tool.sh --list:\n%s", out)
	}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 2 {
			t.Fatalf("tool.sh --list line %q", l)
		}
		if !classes[strings.ReplaceAll(f[1], ".", "/")+".class"] {
			t.Errorf("%s: no class %s in lib/", f[0], f[1])
		}
		for _, n := range []string{f[0], f[0] + ".sh"} {
			if _, err := os.Stat(filepath.Join(BinDir(), n)); err != nil {
				t.Errorf("bin/%s: %v", n, err)
			}
		}
	}
}
