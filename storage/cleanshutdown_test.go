package storage

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

func TestCleanShutdownRecordIsTakenOnce(t *testing.T) {
	dir := t.TempDir()
	ends := map[string]int64{"orders-0": 42, "orders-1": 0, "a.b_c-12": 7}
	if err := WriteCleanShutdown(dir, ends); err != nil {
		t.Fatal(err)
	}
	got, err := TakeCleanShutdown(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ends) {
		t.Fatalf("got %v, want %v", got, ends)
	}
	for k, v := range ends {
		if got[k] != v {
			t.Fatalf("%s: got %d, want %d", k, got[k], v)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, dirCleanShutdownFile)); !os.IsNotExist(err) {
		t.Fatalf("record still there after it was taken: %v", err)
	}
	if again, err := TakeCleanShutdown(dir); err != nil || len(again) != 0 {
		t.Fatalf("second take: %v, %v; want nothing", again, err)
	}
}

func TestDamagedCleanShutdownRecordCountsAsNone(t *testing.T) {
	for name, body := range map[string]string{
		"torn":          "0\n3\norders-0 1\norders-1 2\n",
		"wrong version": "1\n1\norders-0 1\n",
		"bad offset":    "0\n1\norders-0 x\n",
		"negative":      "0\n1\norders-0 -1\n",
		"path":          "0\n1\n../x-0 1\n",
		"empty":         "",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, dirCleanShutdownFile), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := TakeCleanShutdown(dir)
			if err != nil || len(got) != 0 {
				t.Fatalf("got %v, %v; want nothing clean", got, err)
			}
		})
	}
}

// CloseUnsynced leaves syncing to the owner: no fsync and no marker of its
// own, so the log recovers on its next Open unless the owner says it is
// clean; either way it reads back whole.
func TestCloseUnsyncedDoesNotSyncOrMark(t *testing.T) {
	for _, clean := range []bool{false, true} {
		dir := t.TempDir()
		var syncs atomic.Int64
		opts := Options{Fsync: func(f *os.File) error { syncs.Add(1); return f.Sync() }}
		l := openTestLog(t, dir, smallConfig(), opts)
		written := appendN(t, l, 60, 3, 100, tsIdentity) // several segments
		if err := l.Sync(context.Background(), l.LogEndOffset()); err != nil {
			t.Fatal(err)
		}
		appendN(t, l, 5, 1, 10, tsIdentity) // an unflushed tail
		before := syncs.Load()
		if err := l.CloseUnsynced(); err != nil {
			t.Fatal(err)
		}
		if n := syncs.Load() - before; n != 0 {
			t.Fatalf("CloseUnsynced did %d fsyncs", n)
		}
		if _, err := os.Stat(filepath.Join(dir, cleanShutdownFile)); !os.IsNotExist(err) {
			t.Fatalf("CloseUnsynced wrote a clean-shutdown marker: %v", err)
		}
		l = openTestLog(t, dir, smallConfig(), Options{Clean: clean})
		if l.LogEndOffset() != 60*3+5 {
			t.Fatalf("clean=%v: end %d after reopen, want %d", clean, l.LogEndOffset(), 60*3+5)
		}
		got := readAllBatches(t, l)
		for i, b := range written {
			if !bytes.Equal(got[i], b) {
				t.Fatalf("clean=%v: batch %d differs after reopen", clean, i)
			}
		}
		l.Close()
	}
}

// A log opened with Created in a directory just made starts empty and
// behaves as one found empty by a full Open.
func TestCreatedLogStartsEmpty(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "t-0")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	l := openTestLog(t, dir, smallConfig(), Options{Created: true})
	if l.LogStartOffset() != 0 || l.LogEndOffset() != 0 {
		t.Fatalf("new log spans %d..%d", l.LogStartOffset(), l.LogEndOffset())
	}
	written := appendN(t, l, 40, 3, 100, tsIdentity)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openTestLog(t, dir, smallConfig(), Options{})
	defer l.Close()
	got := readAllBatches(t, l)
	if len(got) != len(written) || l.LogEndOffset() != 120 {
		t.Fatalf("reopened with %d batches ending at %d", len(got), l.LogEndOffset())
	}
}
