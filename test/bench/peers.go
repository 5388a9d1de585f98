// Package bench measures spool against franz-go's kfake, each server its
// own process on loopback, and reports spool/kfake ratios, since absolute
// figures on shared machines are noise.
package bench

import (
	"bufio"
	"fmt"
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

	"spool/test/harness"
)

// server is a running broker process under test.
type server struct {
	name string
	addr string
	cmd  *exec.Cmd
}

func (s *server) stop() {
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
	return &server{name: "kfake", addr: strings.TrimSpace(line), cmd: cmd}
}

// startSpool starts a fresh single-node spool; extra are --override pairs.
func startSpool(b testing.TB, extra ...string) *server {
	port, cport := harness.FreePort(b), harness.FreePort(b)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	args := []string{"server", "--log-dirs", filepath.Join(b.TempDir(), "data"),
		"--listeners", fmt.Sprintf("PLAINTEXT://%s,CONTROLLER://127.0.0.1:%d", addr, cport),
		"--controller-quorum-voters", fmt.Sprintf("1@127.0.0.1:%d", cport),
		"--log-level", "warn"}
	for _, e := range extra {
		args = append(args, "--override", e)
	}
	cmd := exec.Command(harness.Binary(b), args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	waitAccept(b, addr, 30*time.Second)
	return &server{name: "spool", addr: addr, cmd: cmd}
}

func waitAccept(b testing.TB, addr string, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	b.Fatalf("%s did not accept within %v", addr, timeout)
}
