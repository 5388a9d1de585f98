package storage

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"spool/record"
)

func tsIdentity(i int) int64 { return int64(1000 + i*10) }

func TestAppendReadAcrossRolls(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, smallConfig(), Options{})
	written := appendN(t, l, 300, 3, 100, tsIdentity)
	if l.LogEndOffset() != 900 {
		t.Fatalf("end offset %d", l.LogEndOffset())
	}
	if n := l.NumSegments(); n < 5 {
		t.Fatalf("only %d segments; rolls did not happen", n)
	}
	for i, b := range written {
		h, _ := record.ParseHeader(b)
		if h.BaseOffset != int64(i*3) || h.PartitionLeaderEpoch != 3 {
			t.Fatalf("batch %d patched to %+v", i, h)
		}
	}
	check := func(l *Log) {
		got := readAllBatches(t, l)
		if len(got) != len(written) {
			t.Fatalf("read %d batches, wrote %d", len(got), len(written))
		}
		for i := range got {
			if !bytes.Equal(got[i], written[i]) {
				t.Fatalf("batch %d differs", i)
			}
		}
	}
	check(l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openTestLog(t, dir, smallConfig(), Options{})
	defer l.Close()
	if l.LogEndOffset() != 900 {
		t.Fatalf("end offset after reopen %d", l.LogEndOffset())
	}
	check(l)
	appendN(t, l, 5, 3, 100, tsIdentity)
	if l.LogEndOffset() != 915 {
		t.Fatalf("append after reopen: end %d", l.LogEndOffset())
	}
	// Segment names are the base offsets, zero padded.
	if _, err := os.Stat(filepath.Join(dir, "00000000000000000000.log")); err != nil {
		t.Fatal(err)
	}
}

func TestReadRandomOffsetsUseIndex(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	cfg.SegmentBytes = 1 << 20
	l := openTestLog(t, dir, cfg, Options{})
	defer l.Close()
	written := appendN(t, l, 400, 4, 50, tsIdentity)
	if l.NumSegments() != 1 {
		t.Fatalf("want one segment, got %d", l.NumSegments())
	}
	// Clobber the first batch's header in the file: a read that scanned the
	// segment from the start would now fail, one that uses the index won't.
	s := l.segs[0]
	if s.idxN < 10 {
		t.Fatalf("only %d index entries", s.idxN)
	}
	f, err := os.OpenFile(s.logPath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xff}, 12), 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		off := int64(1000 + rng.IntN(600))
		sl, err := l.Read(off, 1, 1<<62, true)
		if err != nil {
			t.Fatalf("read %d: %v", off, err)
		}
		data, err := sl.ReadAll(nil)
		sl.Release()
		if err != nil {
			t.Fatal(err)
		}
		want := written[off/4]
		if !bytes.Equal(data, want) {
			t.Fatalf("read %d returned the wrong batch", off)
		}
	}
}

func TestReadBounds(t *testing.T) {
	l := openTestLog(t, t.TempDir(), smallConfig(), Options{})
	defer l.Close()
	written := appendN(t, l, 20, 2, 100, tsIdentity) // offsets 0..39
	size := len(written[0])

	sl, err := l.Read(4, 3*size, 1<<62, false)
	if err != nil || sl.Len() != 3*size || sl.Pos() != int64(2*size) {
		t.Fatalf("maxBytes 3 batches: len %d pos %d err %v", sl.Len(), sl.Pos(), err)
	}
	sl.Release()
	sl, _ = l.Read(5, 3*size-1, 1<<62, false) // mid-batch offset, not quite 3 batches
	if sl.Len() != 2*size || sl.Pos() != int64(2*size) {
		t.Fatalf("boundary rounding: len %d pos %d", sl.Len(), sl.Pos())
	}
	sl.Release()
	sl, _ = l.Read(4, 10, 1<<62, false)
	if !sl.Empty() {
		t.Fatalf("first batch over maxBytes without minOneBatch returned %d bytes", sl.Len())
	}
	sl, _ = l.Read(4, 10, 1<<62, true)
	if sl.Len() != size {
		t.Fatalf("minOneBatch returned %d bytes, want %d", sl.Len(), size)
	}
	sl.Release()
	sl, _ = l.Read(0, 1<<20, 9, true) // high watermark 9: batches 0..4 (base 8 < 9)
	if sl.Len() != 5*size {
		t.Fatalf("maxOffset 9: len %d want %d", sl.Len(), 5*size)
	}
	sl.Release()
	sl, _ = l.Read(0, 1<<20, 8, true)
	if sl.Len() != 4*size {
		t.Fatalf("maxOffset 8: len %d want %d", sl.Len(), 4*size)
	}
	sl.Release()
	for _, off := range []int64{8, 9, 40} {
		sl, err = l.Read(off, 1<<20, 8, true)
		if err != nil || !sl.Empty() {
			t.Fatalf("read at %d with maxOffset 8: %d bytes, %v", off, sl.Len(), err)
		}
	}
	if _, err := l.Read(41, 100, 1<<62, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("beyond end: %v", err)
	}
	if _, err := l.DeleteRecordsBefore(10); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Read(9, 100, 1<<62, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("below start: %v", err)
	}
}

func TestReadStopsAtSegmentBoundary(t *testing.T) {
	l := openTestLog(t, t.TempDir(), smallConfig(), Options{})
	defer l.Close()
	appendN(t, l, 100, 1, 400, tsIdentity)
	first := l.segs[0]
	sl, err := l.Read(0, 1<<30, 1<<62, true)
	if err != nil {
		t.Fatal(err)
	}
	if int64(sl.Len()) != first.size {
		t.Fatalf("read %d bytes, first segment has %d", sl.Len(), first.size)
	}
	sl.Release()
}

func TestAppendAsFollowerKeepsOffsets(t *testing.T) {
	l := openTestLog(t, t.TempDir(), smallConfig(), Options{})
	defer l.Close()
	a := makeBatch(t, batchSpec{records: 2, valueSize: 10, firstTs: 5})
	record.SetBaseOffset(a, 0)
	b := makeBatch(t, batchSpec{records: 3, valueSize: 10, firstTs: 6})
	record.SetBaseOffset(b, 10) // gap, as after compaction
	res, err := l.AppendAsFollower(append(append([]byte(nil), a...), b...))
	if err != nil || res.FirstOffset != 0 || res.LastOffset != 12 {
		t.Fatalf("follower append: %+v %v", res, err)
	}
	if l.LogEndOffset() != 13 {
		t.Fatalf("end %d", l.LogEndOffset())
	}
	sl, err := l.Read(5, 1<<20, 1<<62, true) // inside the gap: next batch
	if err != nil || sl.Pos() != int64(len(a)) {
		t.Fatalf("read in gap: pos %d err %v", sl.Pos(), err)
	}
	sl.Release()
	old := makeBatch(t, batchSpec{records: 1, valueSize: 1})
	record.SetBaseOffset(old, 12)
	if _, err := l.AppendAsFollower(old); err == nil {
		t.Fatal("follower append below end offset accepted")
	}
}

func TestLogAppendTime(t *testing.T) {
	l := openTestLog(t, t.TempDir(), smallConfig(), Options{})
	defer l.Close()
	b := makeBatch(t, batchSpec{records: 3, valueSize: 10, firstTs: 5})
	res, err := l.Append(b, 0, 777)
	if err != nil || res.LogAppendTime != 777 || res.MaxTimestamp != 777 {
		t.Fatalf("%+v %v", res, err)
	}
	got := readAllBatches(t, l)
	h, err := record.Validate(got[0])
	if err != nil || !h.LogAppendTime() || h.MaxTimestamp != 777 {
		t.Fatalf("stored batch %+v %v", h, err)
	}
}
