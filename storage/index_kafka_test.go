package storage

import (
	"os"
	"path/filepath"
	"testing"

	"spool/record"
)

// Index entries name the last offset of their batch, as Kafka's do: Kafka's
// kafka-dump-log checks each entry against the batch at its position, and a
// Kafka broker reading Spool's files expects the same. Checked here for
// appends and for the rebuild of lost indexes; the cleaner's segWriter
// writes its entries by the same rule.
func TestIndexEntriesCarryLastOffsets(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	cfg.IndexIntervalBytes = 0 // every batch indexed
	l := openTestLog(t, dir, cfg, Options{})
	appendN(t, l, 60, 5, 50, tsIdentity)
	if l.NumSegments() < 2 {
		t.Fatalf("%d segments, want several", l.NumSegments())
	}
	checkKafkaIndexes(t, l, "after appends")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pat := range []string{"*.index", "*.timeindex"} {
		paths, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, p := range paths {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}
	}
	l = openTestLog(t, dir, cfg, Options{})
	defer l.Close()
	checkKafkaIndexes(t, l, "after the rebuild")
}

func checkKafkaIndexes(t *testing.T, l *Log, when string) {
	t.Helper()
	entries := 0
	for _, s := range l.segs {
		logf, err := os.Open(s.logPath)
		if err != nil {
			t.Fatal(err)
		}
		batchAt := func(pos int64) record.Header {
			var hdr [record.HeaderLen]byte
			if _, err := logf.ReadAt(hdr[:], pos); err != nil {
				t.Fatalf("%s: read batch at %d: %v", when, pos, err)
			}
			h, _ := record.ParseHeader(hdr[:])
			return h
		}
		lastByTs := map[int64]int64{}
		for pos := int64(0); pos < s.size; {
			h := batchAt(pos)
			if _, ok := lastByTs[h.MaxTimestamp]; !ok {
				lastByTs[h.MaxTimestamp] = h.LastOffset()
			}
			pos += int64(h.TotalSize())
		}
		e := make([]byte, timeEntrySize)
		if s.idxN > 0 {
			idx, err := os.Open(s.idxPath)
			if err != nil {
				t.Fatal(err)
			}
			for i := range s.idxN {
				if err := readEntry(idx, i, e[:offsetEntrySize]); err != nil {
					t.Fatal(err)
				}
				rel, pos := offsetEntry(e[:offsetEntrySize])
				if h := batchAt(pos); s.base+rel != h.LastOffset() {
					t.Fatalf("%s: segment %d offset entry %d is offset %d at byte %d, whose batch ends at %d", when, s.base, i, s.base+rel, pos, h.LastOffset())
				}
				entries++
			}
			idx.Close()
		}
		if s.timeN > 0 {
			tim, err := os.Open(s.timePath)
			if err != nil {
				t.Fatal(err)
			}
			for i := range s.timeN {
				if err := readEntry(tim, i, e); err != nil {
					t.Fatal(err)
				}
				ts, rel := timeEntry(e)
				if want, ok := lastByTs[ts]; !ok || s.base+rel != want {
					t.Fatalf("%s: segment %d time entry %d is (%d, offset %d), want the last offset %d of the batch with that max timestamp", when, s.base, i, ts, s.base+rel, want)
				}
			}
			tim.Close()
		}
		logf.Close()
	}
	if entries == 0 {
		t.Fatalf("%s: no offset-index entries to check", when)
	}
}
