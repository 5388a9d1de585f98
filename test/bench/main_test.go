package bench

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/PERFORMANCE.md's tables with this run's")

var (
	machineOnce sync.Once
	theMachine  machine
)

// currentMachine describes the machine and measures its limits once per
// run, between servers (nothing else of the run is going on meanwhile).
func currentMachine() machine {
	machineOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bench-machine-*")
		if err == nil {
			theMachine, err = probeMachine(dir)
			os.RemoveAll(dir)
		}
		if err != nil {
			table.note("measuring the machine's limits failed: %v", err)
		}
	})
	return theMachine
}

// TestMain prints the table once every selected benchmark has run, and
// with -update writes it into docs/PERFORMANCE.md.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if len(table.rows) == 0 {
		os.Exit(code)
	}
	judgeTargets()
	var buf bytes.Buffer
	table.markdown(&buf, currentMachine())
	fmt.Printf("\n%s", buf.String())
	if out := os.Getenv("BENCH_OUT"); out != "" {
		if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	if *update && code == 0 {
		section := "bench"
		if os.Getenv("SPOOL_BENCH_SCALE") != "" {
			section = "bench-scale"
		}
		if err := updateReadme(section, buf.String()); err != nil {
			fmt.Fprintln(os.Stderr, "update docs/PERFORMANCE.md:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// judgeTargets checks the matrix's figures against the targets that span
// several rows; benchmarks judge their own targets as they run.
func judgeTargets() {
	if r, ok := table.find(sectionSingle, headline.String()+" produce"); ok && r.Peers["kfake"] > 0 {
		x := r.ratio("kfake")
		table.target("produce 1 KiB acks=all 6 partitions, single node >= 1.5x kfake in memory", fmt.Sprintf("%.2fx (%s vs %s MB/s)", x, num(r.Spool), num(r.Peers["kfake"])), x >= 1.5)
	}
	if r, ok := table.find(sectionSingle, headline.String()+" consume"); ok && r.Peers["kfake"] > 0 {
		x := r.ratio("kfake")
		table.target("consume from page cache >= 2x kfake (1 KiB, 6 partitions)", fmt.Sprintf("%.2fx (%s vs %s MB/s)", x, num(r.Spool), num(r.Peers["kfake"])), x >= 2)
	}
	if r, ok := table.find(sectionSingle, headline.String()+" e2e latency at 50% of max"); ok {
		table.target("end-to-end p99 at 50% of max rate <= 5 ms (1 KiB acks=all 6 partitions)", num(r.Spool)+" ms", r.Spool <= 5)
	}
	rf3 := workload{size: 1024, acks: "all", partitions: 6, brokers: 3, rf: 3}
	rf1 := rf3
	rf1.rf = 1
	a, ok1 := table.find(sectionCluster, rf3.String()+" produce")
	c, ok2 := table.find(sectionCluster, rf1.String()+" produce")
	if ok1 && ok2 && c.Spool > 0 {
		x := a.Spool / c.Spool
		table.target("RF=3 acks=all throughput >= 60% of RF=1 (3 brokers, 1 KiB, 6 partitions)", fmt.Sprintf("%.0f%% (%s vs %s MB/s)", 100*x, num(a.Spool), num(c.Spool)), x >= 0.6)
	}
	for _, r := range table.rows {
		if r.Section == sectionFetch && r.Unit == "%" {
			table.target("sendfile for every plaintext fetch", fmt.Sprintf("%.2f%% of record bytes", r.Spool), r.Spool >= 99.99)
		}
	}
}
