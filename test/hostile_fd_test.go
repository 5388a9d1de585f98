package test

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
	"golang.org/x/sys/unix"

	"spool/test/harness"
)

// openFiles is the number of descriptors process pid has open.
func openFiles(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// apiVersionsOK dials addr and reports whether an ApiVersions request is
// answered within timeout.
func apiVersionsOK(addr string, timeout time.Duration) bool {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return false
	}
	defer c.Close()
	_, err = harness.RequestOn(c, kmsg.NewPtrApiVersionsRequest(), timeout)
	return err == nil
}

// With its descriptors exhausted (a lowered RLIMIT_NOFILE and more
// connections than it allows), the broker's accept loop backs off and logs
// instead of ending: once the connections close, the listener accepts and
// serves again.
func TestAcceptSurvivesRunningOutOfDescriptors(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, nil)
	n.Start()
	pid := n.Pid()
	limit := uint64(openFiles(t, pid) + 20)
	var old unix.Rlimit
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: limit, Max: limit}, &old); err != nil {
		t.Skipf("cannot lower the node's RLIMIT_NOFILE: %v", err)
	}
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(n.Output(), "too many open files") {
		if time.Now().After(deadline) {
			t.Fatalf("no accept error after %d connections with RLIMIT_NOFILE %d", len(conns), limit)
		}
		for range 10 {
			c, err := net.DialTimeout("tcp", n.Addr, 5*time.Second)
			if err != nil {
				break // the backlog is full too
			}
			conns = append(conns, c)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if apiVersionsOK(n.Addr, time.Second) {
		t.Fatal("served a new connection with no descriptor to spare")
	}
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	deadline = time.Now().Add(60 * time.Second)
	for !apiVersionsOK(n.Addr, 5*time.Second) {
		if time.Now().After(deadline) {
			t.Fatalf("listener not serving a minute after the descriptors were freed (%d open, limit %d)", openFiles(t, pid), limit)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !n.Running() {
		t.Fatal("node exited")
	}
}

// listener.name.<l>.max.connections: connections past a listener's own
// limit are closed at once, and a freed slot is taken again.
func TestListenerMaxConnections(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, map[string]string{"listener.name.plaintext.max.connections": "3"})
	n.Start()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 3 {
		c, err := net.DialTimeout("tcp", n.Addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if _, err := harness.RequestOn(c, kmsg.NewPtrApiVersionsRequest(), 10*time.Second); err != nil {
			t.Fatalf("connection %d within the limit: %v", len(conns), err)
		}
	}
	if !sendUntilClosed(n.Addr, nil, 10*time.Second) {
		t.Fatal("a fourth connection was not closed")
	}
	conns[0].Close()
	deadline := time.Now().Add(30 * time.Second)
	for !apiVersionsOK(n.Addr, 5*time.Second) {
		if time.Now().After(deadline) {
			t.Fatal("no connection served after one of three closed")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
