// Package kafkapeer starts the Apache Kafka peer (test/peers/kafka/run.sh)
// from Go tests and benchmarks, on ephemeral loopback ports, and stops it.
//
// Start it once per test package, not per test: a JVM broker takes a few
// seconds and a few hundred MiB. Shared does that:
//
//	var kafka kafkapeer.Shared
//
//	func TestMain(m *testing.M) { code := m.Run(); kafka.Stop(); os.Exit(code) }
//
//	func TestX(t *testing.T) { addr := kafka.Get(t).Addr() }
//
// Nothing is skipped: without Java or the jars, Start fails with the make
// target that installs them (make kafka-peer).
//
// Like test/harness, it imports nothing of Spool's.
package kafkapeer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options say how to run the peer. The zero value is one node with
// run.sh's defaults.
type Options struct {
	// Nodes is 1 (the default) or more, each a combined broker and
	// controller (run.sh --nodes).
	Nodes int
	// Overrides are broker properties for every node (run.sh --override).
	Overrides map[string]string
	// Features are feature levels to format with (run.sh --feature),
	// e.g. "eligible.leader.replicas.version": "0".
	Features map[string]string
	// SSL adds an SSL client listener on a free port next to each node's
	// PLAINTEXT one, which stays for run.sh's readiness probe and for
	// admin work; its addresses are Peer.SSLAddrs. The keystore and
	// truststore (ssl.keystore.type=PEM, ...) go in Overrides. One node
	// only: run.sh's overrides are the same for every node.
	SSL bool
	// Heap replaces run.sh's JVM heap options, e.g. "-Xms1g -Xmx1g".
	Heap string
	// LogLevel is the log4j2 root level (default WARN).
	LogLevel string
	// ReadyTimeout bounds the start (default 3 minutes).
	ReadyTimeout time.Duration
}

// Peer is a running Apache Kafka: one run.sh process and its JVMs.
type Peer struct {
	Addrs     []string // each broker's client listener, host:port
	CtrlAddrs []string // each node's controller listener
	SSLAddrs  []string // each node's SSL client listener (Options.SSL)
	Dir       string   // config and data (removed by Stop)
	// Opts describes how it was started, for benchmark tables.
	Opts string

	cmd    *exec.Cmd
	stderr *tail
	done   chan struct{}
	exit   error
	once   sync.Once
}

// Addr is the first broker's client listener.
func (p *Peer) Addr() string { return p.Addrs[0] }

// Dir is test/peers/kafka: $SPOOL_KAFKA_PEER, or found from this file.
func Dir() string {
	if d := os.Getenv("SPOOL_KAFKA_PEER"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "kafka")
}

// ErrNotInstalled is returned when Java or the peer's jars are missing.
var ErrNotInstalled = errors.New("the Apache Kafka peer is not installed: run `make kafka-peer` (test/peers/kafka/fetch.sh)")

// Installed reports whether the jars are fetched and java is on PATH.
func Installed() error {
	if _, err := os.Stat(filepath.Join(Dir(), "lib", ".pom.sha256")); err != nil {
		return fmt.Errorf("%w: %s has no jars", ErrNotInstalled, filepath.Join(Dir(), "lib"))
	}
	java := "java"
	if h := os.Getenv("JAVA_HOME"); h != "" {
		java = filepath.Join(h, "bin", "java")
	}
	if _, err := exec.LookPath(java); err != nil {
		return fmt.Errorf("%w: no java: %v", ErrNotInstalled, err)
	}
	return nil
}

// Start runs the peer and returns once every broker serves clients. Ports
// are picked free just before the start; a start that loses a port to
// another process is retried on new ones.
func Start(o Options) (*Peer, error) {
	if err := Installed(); err != nil {
		return nil, err
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var p *Peer
		p, err = start(o)
		if err == nil {
			return p, nil
		}
		if !strings.Contains(err.Error(), "Address already in use") {
			break
		}
	}
	return nil, err
}

func start(o Options) (*Peer, error) {
	if o.Nodes == 0 {
		o.Nodes = 1
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 3 * time.Minute
	}
	dir, err := os.MkdirTemp("", "kafka-peer-*")
	if err != nil {
		return nil, err
	}
	p := &Peer{Dir: dir, stderr: &tail{max: 64 << 10}, done: make(chan struct{})}
	var ports, cports []string
	for i := 0; i < o.Nodes; i++ {
		port, cport := freePort(), freePort()
		if port == 0 || cport == 0 {
			os.RemoveAll(dir)
			return nil, errors.New("no free loopback port")
		}
		ports, cports = append(ports, strconv.Itoa(port)), append(cports, strconv.Itoa(cport))
		p.Addrs = append(p.Addrs, fmt.Sprintf("127.0.0.1:%d", port))
		p.CtrlAddrs = append(p.CtrlAddrs, fmt.Sprintf("127.0.0.1:%d", cport))
	}
	overrides := map[string]string{}
	for k, v := range o.Overrides {
		overrides[k] = v
	}
	if o.SSL {
		sport := freePort()
		if o.Nodes != 1 || sport == 0 {
			os.RemoveAll(dir)
			return nil, errors.New("kafka peer: an SSL listener needs one node and a free port")
		}
		ssl := fmt.Sprintf("127.0.0.1:%d", sport)
		p.SSLAddrs = []string{ssl}
		overrides["listeners"] = fmt.Sprintf("PLAINTEXT://%s,SSL://%s,CONTROLLER://%s", p.Addrs[0], ssl, p.CtrlAddrs[0])
		overrides["advertised.listeners"] = fmt.Sprintf("PLAINTEXT://%s,SSL://%s", p.Addrs[0], ssl)
		overrides["listener.security.protocol.map"] = "PLAINTEXT:PLAINTEXT,SSL:SSL,CONTROLLER:PLAINTEXT"
	}
	args := []string{"--nodes", strconv.Itoa(o.Nodes), "--port", strings.Join(ports, ","),
		"--controller-port", strings.Join(cports, ","), "--dir", dir,
		"--ready-timeout", strconv.Itoa(int(o.ReadyTimeout.Seconds()))}
	opts := []string{fmt.Sprintf("kafka 4.4.0, %d node(s)", o.Nodes)}
	if o.Heap != "" {
		args = append(args, "--heap", o.Heap)
		opts = append(opts, "heap "+o.Heap)
	}
	if o.LogLevel != "" {
		args = append(args, "--log-level", o.LogLevel)
	}
	if o.SSL {
		opts = append(opts, "with an SSL listener")
	}
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--override", k+"="+overrides[k])
		if _, ok := o.Overrides[k]; ok {
			opts = append(opts, k+"="+overrides[k])
		}
	}
	fkeys := make([]string, 0, len(o.Features))
	for k := range o.Features {
		fkeys = append(fkeys, k)
	}
	sort.Strings(fkeys)
	for _, k := range fkeys {
		args = append(args, "--feature", k+"="+o.Features[k])
		opts = append(opts, "feature "+k+"="+o.Features[k])
	}
	p.Opts = strings.Join(opts, " ")
	ready, err := p.launch(args)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	select {
	case line := <-ready:
		if !strings.HasPrefix(line, "kafka serving ") {
			p.Stop()
			return nil, fmt.Errorf("kafka peer: unexpected first line %q\n%s", line, p.stderr)
		}
		return p, nil
	case <-p.done:
		os.RemoveAll(dir)
		return nil, fmt.Errorf("kafka peer exited before serving: %v\n%s", p.exit, p.stderr)
	case <-time.After(o.ReadyTimeout + 30*time.Second):
		p.Stop()
		return nil, fmt.Errorf("kafka peer did not serve within %v\n%s", o.ReadyTimeout, p.stderr)
	}
}

// launch starts run.sh and returns a channel with its first stdout line.
// The process is started and waited for on one locked OS thread, so its
// parent-death signal (SIGTERM: run.sh stops its JVMs) fires only when the
// test process itself goes, not when Go retires a thread.
func (p *Peer) launch(args []string) (<-chan string, error) {
	cmd := exec.Command(filepath.Join(Dir(), "run.sh"), args...)
	cmd.Stderr = p.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.exit = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	p.cmd = cmd
	ready := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		line, _ := r.ReadString('\n')
		ready <- strings.TrimSpace(line)
		for {
			if _, err := r.ReadString('\n'); err != nil {
				return
			}
		}
	}()
	return ready, nil
}

// Stop sends SIGTERM (run.sh stops every node), kills the process group
// if that takes over a minute, and removes the data. It is idempotent.
func (p *Peer) Stop() error {
	var err error
	p.once.Do(func() {
		defer os.RemoveAll(p.Dir)
		if p.cmd == nil {
			return
		}
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
			err = p.exit
		case <-time.After(time.Minute):
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
			err = errors.New("kafka peer did not stop within a minute of SIGTERM; killed")
		}
	})
	return err
}

// Kill ends every process of the peer at once (SIGKILL to its group).
func (p *Peer) Kill() {
	p.once.Do(func() {
		defer os.RemoveAll(p.Dir)
		if p.cmd != nil {
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	})
}

// Running reports whether run.sh is still up.
func (p *Peer) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Pids are the JVMs' process ids (the children of run.sh), for CPU and
// memory accounting.
func (p *Peer) Pids() []int {
	pid := p.cmd.Process.Pid
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(raw)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// Log is the tail of what the peer wrote to stderr (its log).
func (p *Peer) Log() string { return p.stderr.String() }

func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	b   bytes.Buffer
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b.Write(p)
	if over := t.b.Len() - t.max; over > 0 {
		t.b.Next(over)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.String()
}
