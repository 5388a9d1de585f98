package storage

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestFileCacheBoundsAndPins(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i := 0; i < 10; i++ {
		p := filepath.Join(dir, fmt.Sprint(i))
		if err := os.WriteFile(p, []byte(fmt.Sprint("file", i)), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	c := NewFileCache(3)
	held, err := c.Pin(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 3; round++ {
		for _, p := range paths[1:] {
			r, err := c.Pin(p)
			if err != nil {
				t.Fatal(err)
			}
			c.Unpin(r)
			if n := c.Open(); n > 3 {
				t.Fatalf("%d open descriptors, capacity 3", n)
			}
		}
	}
	// The pinned file survived all that eviction.
	buf := make([]byte, 5)
	if _, err := held.File().ReadAt(buf, 0); err != nil || string(buf) != "file0" {
		t.Fatalf("pinned file unusable: %q %v", buf, err)
	}
	// Over capacity while everything is pinned, back within it after.
	var refs []*FileRef
	for _, p := range paths[1:7] {
		r, err := c.Pin(p)
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, r)
	}
	if n := c.Open(); n != 7 {
		t.Fatalf("%d open with 7 pinned", n)
	}
	for _, r := range refs {
		c.Unpin(r)
	}
	c.Unpin(held)
	if n := c.Open(); n != 3 {
		t.Fatalf("%d open after unpinning, capacity 3", n)
	}
	// Pinning the same path twice shares one descriptor.
	a, _ := c.Pin(paths[9])
	b, _ := c.Pin(paths[9])
	if a.File() != b.File() {
		t.Fatal("two descriptors for one path")
	}
	c.Unpin(a)
	c.Unpin(b)
}

func TestFileCacheForgetPinned(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	_ = os.WriteFile(p, []byte("data"), 0o644)
	c := NewFileCache(2)
	r, err := c.Pin(p)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	c.Forget(p, func() { closed = true })
	if closed {
		t.Fatal("pinned file closed by Forget")
	}
	buf := make([]byte, 4)
	if _, err := r.File().ReadAt(buf, 0); err != nil {
		t.Fatal(err)
	}
	c.Unpin(r)
	if !closed || c.Open() != 0 {
		t.Fatalf("closed=%v open=%d after last unpin", closed, c.Open())
	}
}

func TestSliceSurvivesRetention(t *testing.T) {
	cfg := smallConfig()
	cfg.RetentionBytes = 0
	dir := t.TempDir()
	l := openTestLog(t, dir, cfg, Options{Files: NewFileCache(2)})
	defer l.Close()
	written := appendN(t, l, 100, 1, 400, tsIdentity)
	first := l.segs[0]
	sl, err := l.Read(0, 1<<20, 1<<62, true)
	if err != nil {
		t.Fatal(err)
	}
	defer sl.Release()
	if n, err := l.ApplyRetention(); err != nil || n == 0 {
		t.Fatalf("retention deleted %d: %v", n, err)
	}
	if _, err := os.Stat(first.logPath); !os.IsNotExist(err) {
		t.Fatalf("segment still in place: %v", err)
	}
	if _, err := os.Stat(first.logPath + deletedSuffix); err != nil {
		t.Fatalf("pinned segment removed while in use: %v", err)
	}
	// Churn the small cache so eviction gets its chance.
	readAllBatches(t, l)
	data, err := sl.ReadAll(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, written[0]) {
		t.Fatal("slice bytes changed after deletion")
	}
	sl.Release()
	if _, err := os.Stat(first.logPath + deletedSuffix); !os.IsNotExist(err) {
		t.Fatalf("deleted segment not removed after release: %v", err)
	}
}

func TestManyLogsShareBoundedCache(t *testing.T) {
	fc := NewFileCache(16)
	root := t.TempDir()
	var logs []*Log
	for i := 0; i < 40; i++ {
		l := openTestLog(t, filepath.Join(root, fmt.Sprint("t-", i)), smallConfig(), Options{Files: fc})
		appendN(t, l, 20, 1, 300, tsIdentity)
		logs = append(logs, l)
	}
	if n := fc.Open(); n > 16 {
		t.Fatalf("%d descriptors open, bound 16", n)
	}
	for _, l := range logs {
		if got := readAllBatches(t, l); len(got) != 20 {
			t.Fatalf("%s: %d batches", l.Dir(), len(got))
		}
		if err := l.Sync(t.Context(), l.LogEndOffset()); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range logs {
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if n := fc.Open(); n != 0 {
		t.Fatalf("%d descriptors left after closing every log", n)
	}
}

func TestDeleteLog(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, filepath.Join(dir, "p"), smallConfig(), Options{})
	appendN(t, l, 5, 1, 10, tsIdentity)
	sl, _ := l.Read(0, 1<<20, 1<<62, true)
	if err := l.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "p")); !os.IsNotExist(err) {
		t.Fatal("directory not removed")
	}
	if data, err := sl.ReadAll(nil); err != nil || len(data) == 0 {
		t.Fatalf("slice after delete: %v", err)
	}
	sl.Release()
	if _, err := l.Append(makeBatch(t, batchSpec{records: 1}), 0, -1); err == nil {
		t.Fatal("append to deleted log")
	}
}
