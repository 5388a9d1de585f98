package clients_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var onlyChecks = flag.String("checks", "", "comma-separated application and tool checks to run (default: all; \"none\" runs none)")

// check is one row of the second table: an application (Kafka Streams) or
// a command-line tool run against a deployment, each in its own
// processes, with its own verdict. Unlike a client it runs no scenarios;
// what it proves is in what.
type check struct {
	name string
	// family names the software under test in the versions table.
	family string
	// what is the row's description in the README.
	what string
	// issues are the open issues the check's broker features belong to.
	issues []int
	// timeout bounds the whole check.
	timeout time.Duration
	run     func(ctx context.Context, k *checkCell) error
}

// family is a piece of software the checks run, with how to find its
// version and how to prepare it.
type family struct {
	name    string
	prepare func(b *builds) error
	version func(ctx context.Context, b *builds) string
}

// checkCell is one check run against one deployment.
type checkCell struct {
	t      *testing.T
	d      *deployment
	k      *check
	b      *builds
	dir    string
	prefix string // topic, group and application names start with it
	log    strings.Builder
	mu     sync.Mutex
}

func (k *checkCell) logf(format string, args ...any) {
	k.mu.Lock()
	defer k.mu.Unlock()
	fmt.Fprintf(&k.log, format+"\n", args...)
}

func (k *checkCell) logText() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.log.String()
}

var checks = []*check{streamsEOS, toolTopics, toolConfigs, toolConsole, toolOffsets, toolGroups, toolVerifiable, toolPerf, toolTransactions, toolDumpLog, toolLeaderElection, toolMetadataQuorum, toolMetadataQuorumDynamic, toolReassign, toolFeatures, toolQuotas, toolGroupConfigs}

var families = []*family{streamsFamily, toolsFamily}

func selectedChecks() []*check {
	if *onlyChecks == "none" {
		return nil
	}
	var out []*check
	for _, k := range checks {
		if *onlyChecks == "" || slices.Contains(strings.Split(*onlyChecks, ","), k.name) {
			out = append(out, k)
		}
	}
	return out
}

// usedFamilies lists the families of the selected checks, in order.
func usedFamilies(ks []*check) []*family {
	var out []*family
	for _, f := range families {
		for _, k := range ks {
			if k.family == f.name {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

func runCheck(t *testing.T, k *checkCell, prepErr error, open map[int]bool) result {
	if k.d.sec != nil && !securedChecks[k.k.name] {
		return result{status: notRun}
	}
	start := time.Now()
	err := prepErr
	if err == nil {
		err = k.d.err
	}
	if err == nil {
		dir, derr := os.MkdirTemp(t.TempDir(), k.prefix+"-")
		if derr != nil {
			return result{status: fail, reason: derr.Error()}
		}
		k.dir = dir
		ctx, cancel := context.WithTimeout(context.Background(), k.k.timeout)
		err = k.k.run(ctx, k)
		if err == nil && ctx.Err() != nil {
			err = errors.New("check did not finish in time")
		}
		cancel()
	}
	r := result{status: pass, took: time.Since(start)}
	if err == nil {
		t.Logf("%s / %s: pass in %v\n%s", k.d.name, k.k.name, r.took.Round(time.Millisecond), k.logText())
		return r
	}
	r.status, r.reason = fail, err.Error()
	if r.issue = pendingIssue(open, k.k.issues, k.d.issues); r.issue != 0 {
		r.status = pending
	}
	t.Logf("%s / %s: %s in %v: %s\n%s", k.d.name, k.k.name, r.status, r.took.Round(time.Millisecond), r.reason, k.logText())
	return r
}

// checkPrefix is a check's names on one deployment; deployments are
// separate clusters, so the check's name alone would do, but distinct
// names keep the logs readable.
func checkPrefix(d *deployment, k *check) string {
	if d.rf > 1 {
		return k.name + "-rf" + fmt.Sprint(d.rf)
	}
	return k.name
}
