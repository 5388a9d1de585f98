// Package bench measures spool against Apache Kafka (test/peers/kafka,
// with its defaults) and franz-go's kfake (in memory, and with its DataDir
// and SyncWrites: a disk-backed peer), each server its own process on
// loopback, next to the machine's own limits measured in the
// same run. It prints one table; ratios to the same-run peer are what
// matter on a shared machine, not absolute figures.
package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"spool/test/harness"
	"spool/test/peers/kafkapeer"
)

// server is a running broker (one process, or one per node) under test.
type server struct {
	name  string // spool, kfake or kfake-disk
	opts  string // how it was started, printed with the results
	addrs []string
	pids  []proc
	debug []string // spool's debug listeners, one per node
	nodes []*harness.Node
	cmd   *exec.Cmd
	kafka *kafkapeer.Peer
}

func (s *server) addr() string { return s.addrs[0] }

func (s *server) stop() {
	for _, n := range s.nodes {
		n.Stop()
	}
	if s.kafka != nil {
		s.kafka.Stop()
	}
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// cpuSeconds sums the CPU time of every process of the server.
func (s *server) cpuSeconds() float64 {
	var t float64
	for _, p := range s.pids {
		t += p.cpuSeconds()
	}
	return t
}

// peakRSS sums the peak resident memory of every process since resetPeak.
func (s *server) peakRSS() int64 {
	var t int64
	for _, p := range s.pids {
		t += p.peakRSS()
	}
	return t
}

func (s *server) resetPeak() {
	for _, p := range s.pids {
		p.resetPeak()
	}
}

var (
	kfakeOnce sync.Once
	kfakeBin  string
	kfakeErr  error
)

// kfakeBinary builds the kfake runner once.
func kfakeBinary(b testing.TB) string {
	kfakeOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		dir, err := os.MkdirTemp("", "kfake-bin-*")
		if err != nil {
			kfakeErr = err
			return
		}
		kfakeBin = filepath.Join(dir, "kfakeserver")
		cmd := exec.Command("go", "build", "-o", kfakeBin, "./kfakeserver")
		cmd.Dir = filepath.Dir(file)
		if out, err := cmd.CombinedOutput(); err != nil {
			kfakeErr = fmt.Errorf("build kfake: %v\n%s", err, out)
		}
	})
	if kfakeErr != nil {
		b.Fatal(kfakeErr)
	}
	return kfakeBin
}

// startKfake starts kfake as a process; extra are its flags.
func startKfake(b testing.TB, extra ...string) *server {
	port := harness.FreePort(b)
	cmd := exec.Command(kfakeBinary(b), append([]string{"-port", fmt.Sprint(port)}, extra...)...)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatalf("kfake did not start: %v", err)
	}
	return &server{name: "kfake", opts: "kfake " + strings.Join(extra, " "), addrs: []string{strings.TrimSpace(line)},
		pids: []proc{proc(cmd.Process.Pid)}, cmd: cmd}
}

// startKfakeDisk starts kfake persisting to disk with an fsync per write.
func startKfakeDisk(b testing.TB) *server {
	s := startKfake(b, "-data-dir", filepath.Join(b.TempDir(), "kfake"), "-sync-writes")
	s.name = "kfake-disk"
	return s
}

// startPeer starts the named server on a single node.
func startPeer(b testing.TB, name string, props ...string) *server {
	switch name {
	case "kfake":
		return startKfake(b)
	case "kfake-disk":
		return startKfakeDisk(b)
	case "kafka":
		extra := map[string]string{}
		for _, p := range props {
			k, v, _ := strings.Cut(p, "=")
			extra[k] = v
		}
		return startWarmKafka(b, 1, extra)
	}
	return startSpool(b, props...)
}

// startSpool starts a fresh single-node spool (broker and controller in
// one process) with its debug listener; props are key=value overrides.
func startSpool(b testing.TB, props ...string) *server {
	extra := map[string]string{}
	for _, p := range props {
		k, v, _ := strings.Cut(p, "=")
		extra[k] = v
	}
	n := harness.SingleNode(b, extra)
	return startNodes(b, []*harness.Node{n}, props)
}

// startSpoolCluster starts n nodes, each broker and controller.
func startSpoolCluster(b testing.TB, n int, props map[string]string) *server {
	roles := make([]string, n)
	for i := range roles {
		roles[i] = "broker,controller"
	}
	c := harness.NewCluster(b, roles, props)
	var opts []string
	for k, v := range props {
		opts = append(opts, k+"="+v)
	}
	return startNodes(b, c.Nodes, opts)
}

// startNodes starts every node with a debug listener and waits until the
// brokers serve clients (which they do once unfenced).
func startNodes(b testing.TB, nodes []*harness.Node, props []string) *server {
	s := &server{name: "spool", opts: "spool " + strings.Join(props, " "), nodes: nodes}
	for _, n := range nodes {
		dbg := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(b))
		s.debug = append(s.debug, dbg)
		n.StartArgs("--config", n.ConfigFile, "--cluster-id", n.ClusterID, "--debug-listener", dbg, "--log-level", "warn")
	}
	for _, n := range nodes {
		if n.Addr != "" {
			n.WaitServing(90 * time.Second)
			s.addrs = append(s.addrs, n.Addr)
		}
	}
	for _, d := range s.debug {
		v, err := debugVars(d)
		if err != nil {
			b.Fatalf("debug listener %s: %v", d, err)
		}
		s.pids = append(s.pids, proc(v.PID))
	}
	return s
}

// vars is what the debug listener's /debug/vars holds that the bench uses.
type vars struct {
	PID    int `json:"pid"`
	Broker struct {
		Sendfile int64 `json:"sendfile"`
		Copied   int64 `json:"copied"`
		Written  int64 `json:"written"`
	} `json:"broker_response_bytes"`
}

func debugVars(addr string) (vars, error) {
	var v vars
	cl := http.Client{Timeout: 5 * time.Second}
	var err error
	for range 50 {
		var resp *http.Response
		resp, err = cl.Get("http://" + addr + "/debug/vars")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&v)
			resp.Body.Close()
			if err == nil {
				return v, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return v, err
}

// fetchBytes sums how the brokers' response bytes left: by sendfile, or
// read and copied.
func (s *server) fetchBytes() (sendfile, copied int64) {
	for _, d := range s.debug {
		if v, err := debugVars(d); err == nil {
			sendfile += v.Broker.Sendfile
			copied += v.Broker.Copied
		}
	}
	return sendfile, copied
}

// profile saves a CPU profile of the first node over the next d to path,
// in the background; wait blocks until it is written.
func (s *server) profile(path string, d time.Duration) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		cl := http.Client{Timeout: d + 30*time.Second}
		resp, err := cl.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", s.debug[0], int(d.Seconds())))
		if err != nil {
			table.note("profile %s failed: %v", path, err)
			return
		}
		defer resp.Body.Close()
		f, err := os.Create(path)
		if err != nil {
			return
		}
		defer f.Close()
		f.ReadFrom(resp.Body)
	}()
	return func() { <-done }
}
