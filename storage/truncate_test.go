package storage

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"spool/record"
)

func TestTruncateTo(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, smallConfig(), Options{})
	written := appendN(t, l, 200, 2, 100, tsIdentity) // offsets 0..399
	segs := l.NumSegments()
	if err := l.TruncateTo(250); err != nil {
		t.Fatal(err)
	}
	if l.LogEndOffset() != 250 || l.NumSegments() >= segs {
		t.Fatalf("end %d segments %d (was %d)", l.LogEndOffset(), l.NumSegments(), segs)
	}
	if err := l.TruncateTo(101); err != nil { // inside batch 100-101: removes it
		t.Fatal(err)
	}
	if l.LogEndOffset() != 100 {
		t.Fatalf("mid-batch truncation: end %d", l.LogEndOffset())
	}
	got := readAllBatches(t, l)
	if len(got) != 50 || !bytes.Equal(got[49], written[49]) {
		t.Fatalf("%d batches after truncation", len(got))
	}
	again := appendN(t, l, 10, 2, 100, tsIdentity)
	if h, _ := record.ParseHeader(again[0]); h.BaseOffset != 100 {
		t.Fatalf("append after truncation got base %d", h.BaseOffset)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openTestLog(t, dir, smallConfig(), Options{})
	defer l.Close()
	if l.LogEndOffset() != 120 || len(readAllBatches(t, l)) != 60 {
		t.Fatalf("after reopen end %d", l.LogEndOffset())
	}
	if err := l.TruncateTo(0); err != nil {
		t.Fatal(err)
	}
	if l.LogEndOffset() != 0 || l.NumSegments() != 1 || l.Size() != 0 {
		t.Fatalf("truncate to start: end %d segs %d", l.LogEndOffset(), l.NumSegments())
	}
}

func TestTruncateBelowFlushedLowersRecoveryPoint(t *testing.T) {
	l := openTestLog(t, t.TempDir(), smallConfig(), Options{})
	defer l.Close()
	appendN(t, l, 10, 1, 10, tsIdentity)
	if err := l.Sync(t.Context(), 10); err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateTo(4); err != nil {
		t.Fatal(err)
	}
	if l.FlushedOffset() != 4 {
		t.Fatalf("flushed %d after truncation to 4", l.FlushedOffset())
	}
}

func TestReset(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, smallConfig(), Options{})
	appendN(t, l, 100, 2, 100, tsIdentity)
	if err := l.Reset(5000); err != nil {
		t.Fatal(err)
	}
	if l.LogStartOffset() != 5000 || l.LogEndOffset() != 5000 || l.NumSegments() != 1 {
		t.Fatalf("start %d end %d", l.LogStartOffset(), l.LogEndOffset())
	}
	res, err := l.Append(makeBatch(t, batchSpec{records: 1, valueSize: 1}), 0, -1)
	if err != nil || res.FirstOffset != 5000 {
		t.Fatalf("%+v %v", res, err)
	}
	l.Close()
	l = openTestLog(t, dir, smallConfig(), Options{})
	defer l.Close()
	if l.LogStartOffset() != 5000 || l.LogEndOffset() != 5001 {
		t.Fatalf("after reopen start %d end %d", l.LogStartOffset(), l.LogEndOffset())
	}
}

func TestDeleteRecordsBefore(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, smallConfig(), Options{})
	appendN(t, l, 200, 2, 100, tsIdentity)
	segs := l.NumSegments()
	start, err := l.DeleteRecordsBefore(201)
	if err != nil || start != 201 {
		t.Fatalf("start %d err %v", start, err)
	}
	if l.NumSegments() >= segs {
		t.Fatal("no segment deleted")
	}
	if l.segs[0].base > 201 {
		t.Fatalf("segment holding offset 201 deleted (first base %d)", l.segs[0].base)
	}
	if _, err := l.Read(200, 100, 1<<62, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below new start: %v", err)
	}
	sl, err := l.Read(201, 1<<20, 1<<62, true)
	if err != nil || sl.Empty() {
		t.Fatalf("read at start: %v", err)
	}
	sl.Release()
	if s, _ := l.DeleteRecordsBefore(100); s != 201 {
		t.Fatalf("start moved back to %d", s)
	}
	if _, err := l.DeleteRecordsBefore(401); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("beyond end: %v", err)
	}
	l.Close()
	l = openTestLog(t, dir, smallConfig(), Options{})
	defer l.Close()
	if l.LogStartOffset() != 201 {
		t.Fatalf("start after reopen %d", l.LogStartOffset())
	}
}

func TestRetentionByTime(t *testing.T) {
	clock := newFakeClock()
	cfg := smallConfig()
	cfg.RetentionMs = int64(time.Hour / time.Millisecond)
	l := openTestLog(t, t.TempDir(), cfg, Options{Now: clock.Now})
	defer l.Close()
	base := clock.Now().UnixMilli()
	// First half old, second half an hour and a half newer.
	appendN(t, l, 100, 1, 300, func(i int) int64 { return base + int64(i) })
	oldSegs := l.NumSegments()
	newer := base + int64(90*time.Minute/time.Millisecond)
	appendN(t, l, 100, 1, 300, func(i int) int64 { return newer + int64(i) })
	if n, err := l.ApplyRetention(); err != nil || n != 0 {
		t.Fatalf("nothing expired yet, deleted %d: %v", n, err)
	}
	clock.Advance(70 * time.Minute)
	n, err := l.ApplyRetention()
	if err != nil {
		t.Fatal(err)
	}
	if n < oldSegs-1 || n > oldSegs {
		t.Fatalf("deleted %d segments, old data spanned %d", n, oldSegs)
	}
	if l.LogStartOffset() != l.segs[0].base {
		t.Fatalf("start %d, first segment %d", l.LogStartOffset(), l.segs[0].base)
	}
	clock.Advance(1000 * time.Hour)
	if _, err := l.ApplyRetention(); err != nil {
		t.Fatal(err)
	}
	if l.NumSegments() != 1 {
		t.Fatalf("active segment must stay alone, have %d", l.NumSegments())
	}
}

func TestRetentionBySize(t *testing.T) {
	cfg := smallConfig()
	cfg.RetentionBytes = 40 << 10
	l := openTestLog(t, t.TempDir(), cfg, Options{})
	defer l.Close()
	appendN(t, l, 400, 1, 400, tsIdentity)
	before := l.Size()
	n, err := l.ApplyRetention()
	if err != nil || n == 0 {
		t.Fatalf("deleted %d: %v", n, err)
	}
	if l.Size() < cfg.RetentionBytes || l.Size() >= before {
		t.Fatalf("size %d, limit %d, before %d", l.Size(), cfg.RetentionBytes, before)
	}
	if l.Size()-l.segs[0].size >= cfg.RetentionBytes {
		t.Fatalf("kept a segment that could go: size %d first %d", l.Size(), l.segs[0].size)
	}
}
