// Package harness starts real spool processes for process-level tests:
// it builds (or finds) the binary, picks free loopback ports, writes
// properties files, and waits until a node serves clients.
//
// It imports nothing of Spool's: tests talk to processes only through the
// wire, like any Kafka client would.
package harness

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary returns the spool binary: $SPOOL_BIN, or one built once per test
// process from the repository.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if p := os.Getenv("SPOOL_BIN"); p != "" {
			binPath, buildErr = filepath.Abs(p)
			return
		}
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		dir, err := os.MkdirTemp("", "spool-bin-*")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "spool")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/spool")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build spool: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Node is one spool process.
type Node struct {
	t          testing.TB
	ID         int
	Dir        string // data directory
	ConfigFile string
	Props      map[string]string
	Addr       string // client listener host:port
	CtrlAddr   string
	ClusterID  string
	// ClientTLS, when set, is how WaitServing reaches a TLS client
	// listener.
	ClientTLS *tls.Config
	// NetNS, when set, is the network namespace the process runs in
	// (`ip netns exec`, which execs the server in place, so signals and
	// kills reach it directly).
	NetNS string

	mu   sync.Mutex
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	exit error
}

// SingleNode describes a combined broker+controller with fresh ports and
// data dir; extra properties override the defaults.
func SingleNode(t testing.TB, extra map[string]string) *Node {
	t.Helper()
	dir := t.TempDir()
	port, cport := FreePort(t), FreePort(t)
	n := &Node{
		t: t, ID: 1, Dir: filepath.Join(dir, "data"),
		Addr:      fmt.Sprintf("127.0.0.1:%d", port),
		CtrlAddr:  fmt.Sprintf("127.0.0.1:%d", cport),
		ClusterID: "q1Sh-9_ISia_zwGINzRvyQ",
	}
	n.Props = map[string]string{
		"process.roles":             "broker,controller",
		"node.id":                   "1",
		"listeners":                 fmt.Sprintf("PLAINTEXT://%s,CONTROLLER://%s", n.Addr, n.CtrlAddr),
		"controller.listener.names": "CONTROLLER",
		"controller.quorum.voters":  "1@" + n.CtrlAddr,
		"log.dirs":                  n.Dir,
	}
	for k, v := range extra {
		n.Props[k] = v
	}
	n.ConfigFile = filepath.Join(dir, "server.properties")
	n.writeConfig()
	return n
}

// NewProcess describes a spool server to be started with arbitrary
// arguments (StartArgs), such as a packaging file's command line; addr is
// its client listener, which WaitServing polls.
func NewProcess(t testing.TB, addr string) *Node {
	return &Node{t: t, Addr: addr}
}

func (n *Node) writeConfig() {
	var b strings.Builder
	for k, v := range n.Props {
		fmt.Fprintf(&b, "%s=%s\n", k, v)
	}
	if err := os.WriteFile(n.ConfigFile, []byte(b.String()), 0o644); err != nil {
		n.t.Fatal(err)
	}
}

// Start launches the process with --cluster-id (formatting on first start)
// and waits until the client listener accepts connections.
func (n *Node) Start() {
	n.t.Helper()
	n.StartArgs("--config", n.ConfigFile, "--cluster-id", n.ClusterID)
	n.WaitServing(30 * time.Second)
}

// StartArgs launches `spool server ARGS...` without waiting.
func (n *Node) StartArgs(args ...string) {
	n.t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	n.out = &lockedBuffer{}
	cmd := exec.Command(Binary(n.t), append([]string{"server"}, args...)...)
	if n.NetNS != "" {
		cmd = exec.Command("ip", append([]string{"netns", "exec", n.NetNS, Binary(n.t), "server"}, args...)...)
	}
	cmd.Stdout, cmd.Stderr = n.out, n.out
	if err := cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	n.cmd, n.done = cmd, make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		err := cmd.Wait()
		n.mu.Lock()
		n.exit = err
		n.mu.Unlock()
		close(done)
	}(cmd, n.done)
	n.t.Cleanup(func() { n.Kill() })
}

// WaitServing waits until the client listener answers an ApiVersions
// request. A bound listener accepts TCP connections into its backlog before
// the broker serves, so a plain dial proves nothing.
func (n *Node) WaitServing(timeout time.Duration) {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-n.done:
			n.t.Fatalf("spool exited before serving: %v\n%s", n.exit, n.Output())
		default:
		}
		if apiVersionsAnswered(n.Addr, n.ClientTLS) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	n.t.Fatalf("spool did not serve on %s within %v\n%s", n.Addr, timeout, n.Output())
}

// apiVersionsAnswered sends ApiVersions v0 and waits briefly for any answer.
func apiVersionsAnswered(addr string, tlsCfg *tls.Config) bool {
	var c net.Conn
	var err error
	if tlsCfg != nil {
		c, err = tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, tlsCfg)
	} else {
		c, err = net.DialTimeout("tcp", addr, time.Second)
	}
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	// size, api key 18, version 0, correlation id 1, null client id
	req := []byte{0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 1, 0xff, 0xff}
	if _, err := c.Write(req); err != nil {
		return false
	}
	var size [4]byte
	_, err = io.ReadFull(c, size[:])
	return err == nil
}

// Stop sends SIGTERM and waits for a clean exit.
func (n *Node) Stop() error {
	n.t.Helper()
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if cmd == nil {
		return nil
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("spool did not stop within 60s after SIGTERM")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cmd = nil
	return n.exit
}

// Kill sends SIGKILL and waits for the process to go.
func (n *Node) Kill() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.cmd = nil
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill()
	<-done
}

// Output is what the process printed so far.
func (n *Node) Output() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.out == nil {
		return ""
	}
	return n.out.String()
}

// Run runs `spool ARGS...` to completion and returns its combined output
// and exit code.
func Run(t testing.TB, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(Binary(t), args...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Running reports whether the process is up.
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// Signal sends sig to the process (SIGSTOP and SIGCONT for pause tests).
func (n *Node) Signal(sig os.Signal) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		n.cmd.Process.Signal(sig)
	}
}

// Rewrite writes the config file again after a test changed Props.
func (n *Node) Rewrite() { n.writeConfig() }

// Pid is the process id of the running server, 0 when none.
func (n *Node) Pid() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || n.cmd.Process == nil {
		return 0
	}
	return n.cmd.Process.Pid
}
