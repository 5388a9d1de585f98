package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"spool/record"
)

// TestCleanCrashAtEachStep stops a clean at every step, for the first and
// second segment group, abandons the log as a crash would, and reopens it:
// the log must be whole (every key's latest value, offsets increasing,
// indexes that find every batch, no leftovers), and a later clean must
// finish the job.
func TestCleanCrashAtEachStep(t *testing.T) {
	steps := []string{StepMapped, StepCleaned, StepSwap, StepDeleted, StepSwapped, StepFinished}
	for _, step := range steps {
		for _, nth := range []int{1, 2} {
			if nth == 2 && (step == StepMapped || step == StepFinished) {
				continue // once per clean
			}
			t.Run(fmt.Sprintf("%s#%d", step, nth), func(t *testing.T) {
				crashAt(t, step, nth)
			})
		}
	}
}

func crashAt(t *testing.T, step string, nth int) {
	clk := newFakeClock()
	dir := t.TempDir()
	cfg := compactConfig()
	l := openTestLog(t, dir, cfg, Options{Now: clk.Now})
	latest := writeUpdates(t, l, clk, record.CompressionNone, 20_000, 500, 10)
	rollNow(t, l, clk)
	// A second round on the cleaned log exercises swaps over merged,
	// already-cleaned segments too.
	cleanAll(t, NewCleaner(CleanerOptions{}), l)
	for k, v := range writeUpdates(t, l, clk, record.CompressionNone, 20_000, 700, 10) {
		latest[k] = v
	}
	rollNow(t, l, clk)
	seen := 0
	c := NewCleaner(CleanerOptions{Hook: func(s string) error {
		if s == step {
			if seen++; seen == nth {
				return errCrash
			}
		}
		return nil
	}})
	if _, err := c.Clean(context.Background(), l, 1<<62); !errors.Is(err, errCrash) {
		t.Fatalf("clean did not stop at %s: %v", step, err)
	}
	// Abandon l without Close: no clean-shutdown marker, files as they are.
	l = openTestLog(t, dir, cfg, Options{Now: clk.Now})
	defer l.Close()
	if left := leftovers(t, dir); len(left) > 0 {
		t.Fatalf("leftovers after recovery: %v", left)
	}
	checkLatestPresent(t, l, latest)
	checkReadsAtEveryBatch(t, l)
	cleanAll(t, NewCleaner(CleanerOptions{}), l)
	checkExactlyLatest(t, l, latest)
	checkReadsAtEveryBatch(t, l)
}

// checkLatestPresent checks that each key's last record in the log is its
// latest value: superseded records may remain, lost ones may not.
func checkLatestPresent(t testing.TB, l *Log, latest map[string]string) {
	t.Helper()
	got := latestByKey(readRecords(t, l))
	for k, v := range latest {
		if got[k].value != v {
			t.Fatalf("key %s: last record %q, want %q", k, got[k].value, v)
		}
	}
}

// TestRecoveryCompletesSwapOverOldSegments builds the state of a crash just
// after the commit point by hand: the .swap beside every old segment.
func TestRecoveryCompletesSwapOverOldSegments(t *testing.T) {
	clk := newFakeClock()
	dir := t.TempDir()
	cfg := compactConfig()
	l := openTestLog(t, dir, cfg, Options{Now: clk.Now})
	latest := writeUpdates(t, l, clk, record.CompressionNone, 10_000, 100, 10)
	rollNow(t, l, clk)
	segs := l.NumSegments()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// A compacted copy of the first two segments, made in another
	// directory, stands in for the cleaner's output.
	other := t.TempDir()
	copyDir(t, dir, other)
	ol := openTestLog(t, other, cfg, Options{Now: clk.Now})
	cleanAll(t, NewCleaner(CleanerOptions{}), ol)
	// The second clean merges the shrunk segments into one.
	if _, err := NewCleaner(CleanerOptions{}).Clean(context.Background(), ol, 1<<62); err != nil || ol.NumSegments() != 2 {
		t.Fatalf("merge: %d segments, %v", ol.NumSegments(), err)
	}
	ol.Close()
	name := fmt.Sprintf("%020d.log", 0)
	data, err := os.ReadFile(filepath.Join(other, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+swapSuffix), data, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, cleanShutdownFile))
	l = openTestLog(t, dir, cfg, Options{Now: clk.Now})
	defer l.Close()
	if l.NumSegments() != 2 || segs <= 2 {
		t.Fatalf("%d segments after completing the swap, had %d", l.NumSegments(), segs)
	}
	checkExactlyLatest(t, l, latest)
	checkReadsAtEveryBatch(t, l)
}

func copyDir(t testing.TB, from, to string) {
	t.Helper()
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
