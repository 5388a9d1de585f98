// Package clients_test runs every stock client against real spool processes,
// each client in its own process, one cell per client and scenario, and
// prints the matrix. See README.md's compatibility section for the result.
package clients_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"spool/test/harness"
)

var (
	update      = flag.Bool("update", false, "rewrite the compatibility section of README.md from this run")
	withSingle  = flag.Bool("single", true, "run the matrix against a single node")
	withCluster = flag.Bool("cluster", true, "also run the matrix against a 3-broker cluster")
	onlyClients = flag.String("clients", "", "comma-separated clients to run (default: all)")
	onlyScens   = flag.String("scenarios", "", "comma-separated scenarios to run (default: all)")
	parallel    = flag.Int("cells", 6, "cells running at once")
)

// deployment is one set of spool processes the matrix runs against.
type deployment struct {
	name  string
	seeds []string
	// controllers are the controller listeners' addresses.
	controllers []string
	// offSeeds is a node with auto.create.topics.enable=false.
	offSeeds  []string
	rf        int
	issues    []int // open issues the deployment itself depends on
	oracle    *oracle
	offOracle *oracle
	// dirs are the log directories by node id, for the tools that read
	// Spool's files.
	dirs map[int]string
	err  error // why it did not start; every cell reports it
	// sec is set on the secured deployment: how clients reach it.
	sec *secured
}

type status string

const (
	pass    status = "pass"
	fail    status = "FAIL"
	pending status = "pending"
	na      status = "n/a"
	notRun  status = "—"
)

type result struct {
	status status
	issue  int
	reason string
	took   time.Duration
}

func TestMatrix(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	open, err := readPending("pending.txt")
	if err != nil {
		t.Fatal(err)
	}
	cls, scs := selected(t)
	ks := selectedChecks()
	fams := usedFamilies(ks)
	b := &builds{root: root, dir: t.TempDir()}

	// Runners build while the brokers start.
	argv := make([][]string, len(cls))
	prepErr := make([]error, len(cls))
	famErr := map[string]error{}
	var famMu sync.Mutex
	var prep sync.WaitGroup
	for i, c := range cls {
		prep.Go(func() { argv[i], prepErr[i] = c.prepare(b) })
	}
	for _, f := range fams {
		prep.Go(func() {
			err := f.prepare(b)
			famMu.Lock()
			famErr[f.name] = err
			famMu.Unlock()
		})
	}
	var deps []*deployment
	if *withSingle {
		deps = append(deps, startSingle(t))
	}
	if *withCluster {
		deps = append(deps, startCluster(t))
	}
	if *withSecured {
		deps = append(deps, startSecured(t, cls, scs, ks))
	}
	prep.Wait()
	for _, d := range deps {
		if d.oracle != nil {
			defer d.oracle.close()
		}
		if d.offOracle != nil {
			defer d.offOracle.close()
		}
	}

	type key struct{ d, c, s int }
	results := map[key]result{}
	var mu sync.Mutex
	sem := make(chan struct{}, *parallel)
	var wg sync.WaitGroup
	for di, d := range deps {
		for ci, c := range cls {
			for si, s := range scs {
				cl := &cell{d: d, c: c, s: s, argv: argv[ci], topic: c.name + "-" + s.name}
				cl.group = "g-" + cl.topic
				wg.Go(func() {
					sem <- struct{}{}
					defer func() { <-sem }()
					r := runCell(t, cl, prepErr[ci], open)
					mu.Lock()
					results[key{di, ci, si}] = r
					mu.Unlock()
				})
			}
		}
	}
	type checkKey struct{ d, k int }
	checkResults := map[checkKey]result{}
	for di, d := range deps {
		for ki, k := range ks {
			kc := &checkCell{t: t, d: d, k: k, b: b, prefix: checkPrefix(d, k)}
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				r := runCheck(t, kc, famErr[k.family], open)
				mu.Lock()
				checkResults[checkKey{di, ki}] = r
				mu.Unlock()
			})
		}
	}
	versions := make([]string, len(cls))
	famVersions := make([]string, len(fams))
	vctx, vcancel := context.WithTimeout(context.Background(), time.Minute)
	for i, c := range cls {
		wg.Go(func() { versions[i] = c.version(vctx, b) })
	}
	for i, f := range fams {
		wg.Go(func() { famVersions[i] = f.version(vctx, b) })
	}
	wg.Wait()
	vcancel()

	rep := &report{clients: cls, scenarios: scs, deployments: deps, versions: versions,
		checks: ks, families: fams, famVersions: famVersions}
	rep.results = func(d, c, s int) result { return results[key{d, c, s}] }
	rep.checkResults = func(d, k int) result { return checkResults[checkKey{d, k}] }
	md := rep.markdown()
	t.Logf("client matrix\n%s\n%s", md, rep.notes())
	for di, d := range deps {
		for ci, c := range cls {
			for si, s := range scs {
				r := results[key{di, ci, si}]
				if r.status == fail {
					t.Errorf("%s / %s / %s: %s", d.name, c.name, s.name, r.reason)
				}
			}
		}
		for ki, k := range ks {
			if r := checkResults[checkKey{di, ki}]; r.status == fail {
				t.Errorf("%s / %s: %s", d.name, k.name, r.reason)
			}
		}
	}
	if *update {
		if len(cls) != len(clients) || len(scs) != len(scenarios) || len(ks) != len(checks) {
			t.Fatal("-update needs the whole matrix: drop -clients, -scenarios and -checks")
		}
		if err := updateReadme(filepath.Join(root, "README.md"), md); err != nil {
			t.Fatal(err)
		}
	}
}

func runCell(t *testing.T, c *cell, prepErr error, open map[int]bool) result {
	if reason, ok := c.c.na[c.s.name]; ok {
		return result{status: na, reason: reason}
	}
	if (c.s.singleOnly && c.d.offSeeds == nil) || !c.d.runs(c.s) {
		return result{status: notRun}
	}
	start := time.Now()
	err := prepErr
	if err == nil {
		err = c.d.err
	}
	if err == nil {
		dir, derr := os.MkdirTemp(t.TempDir(), c.topic+"-")
		if derr != nil {
			return result{status: fail, reason: derr.Error()}
		}
		c.dir = dir
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		err = c.s.run(ctx, c)
		cancel()
	}
	if errors.Is(err, errNotRun) {
		return result{status: notRun}
	}
	r := result{status: pass, took: time.Since(start)}
	if err == nil {
		t.Logf("%s / %s / %s: pass in %v", c.d.name, c.c.name, c.s.name, r.took.Round(time.Millisecond))
		return r
	}
	r.status, r.reason = fail, err.Error()
	issues := slices.Clone(c.s.issues)
	if rb := (readBackError{}); errors.As(err, &rb) && c.c.readsBackInGroup {
		issues = append(issues, issueGroups)
	}
	if r.issue = pendingIssue(open, issues, c.d.issues); r.issue != 0 {
		r.status = pending
	}
	t.Logf("%s / %s / %s: %s in %v: %s\n%s", c.d.name, c.c.name, c.s.name, r.status, r.took.Round(time.Millisecond), r.reason, c.log.String())
	return r
}

// pendingIssue is the open issue a failure waits on, or 0: the cell's own
// issues first, the highest open one (later issues build on earlier ones);
// the deployment's only when none of those is open.
func pendingIssue(open map[int]bool, own, deployment []int) int {
	for _, group := range [][]int{own, deployment} {
		best := 0
		for _, issue := range group {
			if open[issue] && issue > best {
				best = issue
			}
		}
		if best != 0 {
			return best
		}
	}
	return 0
}

// readPending reads the open issues the matrix waits on: one number a line,
// '#' starts a comment.
func readPending(path string) (map[int]bool, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	open := map[int]bool{}
	for _, line := range strings.Split(string(raw), "\n") {
		line, _, _ = strings.Cut(line, "#")
		for _, f := range strings.Fields(line) {
			n, err := strconv.Atoi(f)
			if err != nil {
				return nil, fmt.Errorf("%s: %q is not an issue number", path, f)
			}
			open[n] = true
		}
	}
	return open, nil
}

func selected(t *testing.T) ([]*client, []*scenario) {
	pick := func(list string, name string) bool {
		return list == "" || slices.Contains(strings.Split(list, ","), name)
	}
	var cls []*client
	for _, c := range clients {
		if pick(*onlyClients, c.name) {
			cls = append(cls, c)
		}
	}
	var scs []*scenario
	for _, s := range scenarios {
		if pick(*onlyScens, s.name) {
			scs = append(scs, s)
		}
	}
	if len(cls) == 0 || len(scs) == 0 {
		t.Fatalf("no clients or scenarios selected (-clients %q -scenarios %q)", *onlyClients, *onlyScens)
	}
	return cls, scs
}

// nodeProps apply to every node the matrix starts.
var nodeProps = map[string]string{
	// The rebalance delay only waits for members that will never come;
	// every group here has one member.
	"group.initial.rebalance.delay.ms": "0",
}

// startSingle starts the single-node deployment and a second node with
// auto-creation off.
func startSingle(t *testing.T) *deployment {
	d := &deployment{name: "single node", rf: 1}
	var on, off *harness.Node
	var wg sync.WaitGroup
	var errOn, errOff error
	wg.Go(func() {
		errOn = soft(t, func(tb testing.TB) {
			on = harness.SingleNode(tb, nodeProps)
			on.Start()
		})
	})
	wg.Go(func() {
		errOff = soft(t, func(tb testing.TB) {
			props := map[string]string{"auto.create.topics.enable": "false"}
			for k, v := range nodeProps {
				props[k] = v
			}
			off = harness.SingleNode(tb, props)
			off.Start()
		})
	})
	wg.Wait()
	if d.err = errors.Join(errOn, errOff); d.err != nil {
		return d
	}
	d.seeds, d.offSeeds = []string{on.Addr}, []string{off.Addr}
	d.controllers = []string{on.CtrlAddr}
	d.dirs = map[int]string{on.ID: on.Dir}
	if d.oracle, d.err = newOracle(d.seeds); d.err != nil {
		return d
	}
	d.offOracle, d.err = newOracle(d.offSeeds)
	return d
}

// startCluster starts three combined brokers+controllers; topics get
// replication factor 3.
func startCluster(t *testing.T) *deployment {
	d := &deployment{name: "3 brokers", rf: 3, issues: []int{issueCluster}}
	var c *harness.Cluster
	d.err = soft(t, func(tb testing.TB) {
		c = harness.NewCluster(tb, []string{"broker,controller", "broker,controller", "broker,controller"}, nodeProps)
		c.Start()
	})
	if d.err != nil {
		return d
	}
	d.seeds = c.BootstrapAddrs()
	d.dirs = map[int]string{}
	for _, n := range c.Nodes {
		d.dirs[n.ID] = n.Dir
		d.controllers = append(d.controllers, n.CtrlAddr)
	}
	d.oracle, d.err = newOracle(d.seeds)
	return d
}

// softTB turns the harness's Fatal into an error, so that a deployment
// that does not start fails its cells instead of the whole matrix.
type softTB struct {
	testing.TB
	mu  sync.Mutex
	err error
}

func (s *softTB) Fatal(args ...any)                 { s.fail(fmt.Sprint(args...)) }
func (s *softTB) Fatalf(format string, args ...any) { s.fail(fmt.Sprintf(format, args...)) }
func (s *softTB) FailNow()                          { s.fail("FailNow") }

func (s *softTB) fail(msg string) {
	s.mu.Lock()
	s.err = errors.New(msg)
	s.mu.Unlock()
	runtime.Goexit()
}

func soft(t *testing.T, f func(testing.TB)) error {
	s := &softTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(s)
	}()
	<-done
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		t.Logf("start-up failed: %v", s.err)
		first, _, _ := strings.Cut(s.err.Error(), "\n")
		return errors.New(first)
	}
	return nil
}
