package test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// netLab is a private network made for one test: one network namespace
// per node, each with a veth into a bridge that lives in a hub namespace
// of its own, plus one veth from the test's namespace into that bridge so
// clients reach every node. Cuts are blackhole routes inside the nodes'
// namespaces (no netfilter needed): a node's packets to a cut peer are
// dropped before they leave. Nothing outside the lab is touched but the
// test side's veth, named after the lab, and everything goes at cleanup.
type netLab struct {
	t      *testing.T
	prefix string // namespace names start with it
	hub    string
	root   string // the test side's veth
	ns     []string
	ips    []string
	cuts   map[[2]int]bool // from, to: packets from ns[from] to ips[to] dropped
}

const netLabPrefix = "spool-lab-"

// newNetLab makes a lab of n nodes. Without root (a developer's `go test`,
// never `make test`, which installs as root) the test is skipped; a
// missing ip command is an install failure, not a reason to skip.
func newNetLab(t *testing.T, n int) *netLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: network-partition tests create network namespaces and need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatal("network-partition tests need the ip command (iproute2); run `make clients`")
	}
	removeStaleLabs(t)
	tag := fmt.Sprintf("%d-%04x", os.Getpid(), rand.IntN(1<<16))
	l := &netLab{t: t, prefix: netLabPrefix + tag + "-", cuts: map[[2]int]bool{}}
	l.hub, l.root = l.prefix+"hub", fmt.Sprintf("spl%04x%04x", os.Getpid()&0xffff, rand.IntN(1<<16))
	subnet := freeSubnet(t)
	t.Cleanup(l.close)
	l.ip("netns", "add", l.hub)
	l.ip("-n", l.hub, "link", "add", "br0", "type", "bridge")
	l.ip("-n", l.hub, "link", "set", "br0", "up")
	for i := 0; i < n; i++ {
		ns := fmt.Sprintf("%sn%d", l.prefix, i+1)
		addr := fmt.Sprintf("%s.%d", subnet, i+1)
		l.ip("netns", "add", ns)
		l.ns, l.ips = append(l.ns, ns), append(l.ips, addr)
		port := fmt.Sprintf("h%d", i+1)
		l.ip("-n", l.hub, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
		l.ip("-n", l.hub, "link", "set", port, "master", "br0", "up")
		l.ip("-n", ns, "addr", "add", addr+"/24", "dev", "eth0")
		l.ip("-n", ns, "link", "set", "eth0", "up")
		l.ip("-n", ns, "link", "set", "lo", "up")
	}
	l.ip("link", "add", l.root, "type", "veth", "peer", "name", "hroot", "netns", l.hub)
	l.ip("-n", l.hub, "link", "set", "hroot", "master", "br0", "up")
	l.ip("addr", "add", subnet+".254/24", "dev", l.root)
	l.ip("link", "set", l.root, "up")
	return l
}

// hosts pairs each node's namespace with its address, for
// harness.NewClusterIn.
func (l *netLab) hosts() [][2]string {
	out := make([][2]string, len(l.ns))
	for i := range l.ns {
		out[i] = [2]string{l.ns[i], l.ips[i]}
	}
	return out
}

func (l *netLab) ip(args ...string) {
	l.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// cut drops packets from node a (0-based) to node b.
func (l *netLab) cut(a, b int) {
	l.t.Helper()
	if l.cuts[[2]int{a, b}] {
		return
	}
	l.ip("-n", l.ns[a], "route", "add", "blackhole", l.ips[b]+"/32")
	l.cuts[[2]int{a, b}] = true
}

// isolate cuts node a from every other node both ways; the test side
// still reaches it, as a client would.
func (l *netLab) isolate(a int) {
	l.t.Helper()
	for b := range l.ns {
		if b != a {
			l.cut(a, b)
			l.cut(b, a)
		}
	}
}

// heal removes every cut.
func (l *netLab) heal() {
	l.t.Helper()
	for k := range l.cuts {
		l.ip("-n", l.ns[k[0]], "route", "del", "blackhole", l.ips[k[1]]+"/32")
		delete(l.cuts, k)
	}
}

// close removes the namespaces (which takes their veths, and so the test
// side's veth, with them).
func (l *netLab) close() {
	if out, err := exec.Command("ip", "link", "del", l.root).CombinedOutput(); err != nil && !strings.Contains(string(out), "Cannot find") {
		l.t.Logf("ip link del %s: %v: %s", l.root, err, out)
	}
	for _, ns := range append(l.ns, l.hub) {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			l.t.Errorf("ip netns del %s: %v: %s", ns, err, out)
		}
	}
}

// removeStaleLabs deletes the namespaces of labs whose test process is
// gone (killed before its cleanup ran).
func removeStaleLabs(t *testing.T) {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Skipf("skipped: network namespaces unavailable: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		rest, ok := strings.CutPrefix(name, netLabPrefix)
		if !ok {
			continue
		}
		pidStr, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || processAlive(pid) {
			continue
		}
		exec.Command("ip", "netns", "del", name).Run()
	}
}

func processAlive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

// freeSubnet picks a 10.x.y.0/24 that no address or route here uses.
func freeSubnet(t *testing.T) string {
	t.Helper()
	addrs, _ := exec.Command("ip", "-o", "addr").Output()
	routes, _ := exec.Command("ip", "route").Output()
	for range 100 {
		s := fmt.Sprintf("10.%d.%d", 100+rand.IntN(150), rand.IntN(250))
		if !strings.Contains(string(addrs), " "+s+".") && !strings.Contains(string(routes), s+".") {
			return s
		}
	}
	t.Fatal("no free 10.x.y.0/24 subnet for the lab")
	return ""
}
