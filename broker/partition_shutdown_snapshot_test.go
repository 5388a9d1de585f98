package broker

import (
	"os"
	"sync/atomic"
	"testing"

	"spool/storage"
)

// A broker stopping writes each partition's producer snapshot without an
// fsync (closeAll's one syncfs of the log dir covers it), while a close at
// any other time still syncs it: at 100,000 partitions one fsync each was a
// third of the shutdown's CPU and a device-cache flush per partition.
func TestShutdownSnapshotDoesNotFsync(t *testing.T) {
	var syncs atomic.Int64
	opts := storage.Options{Fsync: func(f *os.File) error { syncs.Add(1); return f.Sync() }}

	durable := newTestBroker(t, nil, opts)
	durable.mustProduce(t, buildBatch(t, idem(5, 0, 0, 2)))
	before := syncs.Load()
	if err := durable.p.snapshotProducers(); err != nil {
		t.Fatal(err)
	}
	if syncs.Load() == before {
		t.Fatal("a snapshot written outside shutdown was not fsynced")
	}

	tb := newTestBroker(t, nil, opts)
	tb.mustProduce(t, buildBatch(t, idem(5, 0, 0, 2)))
	before = syncs.Load()
	if err := tb.p.closeForShutdown(); err != nil {
		t.Fatal(err)
	}
	if n := syncs.Load() - before; n != 0 {
		t.Fatalf("closeForShutdown did %d fsyncs, want none", n)
	}
	st, err := readProducerSnapshot(snapshotPath(tb.p.log.Dir(), 2))
	if err != nil {
		t.Fatalf("shutdown snapshot: %v", err)
	}
	if e := st.m[5]; e == nil || e.lastSeq != 1 {
		t.Fatalf("producer 5 in the shutdown snapshot: %+v", e)
	}
}

// A crash before the shutdown's syncfs may leave the unsynced snapshot
// torn, empty or garbled; the next open must skip it (its checksum fails),
// fall back to the older snapshot and replay the log after it.
func TestTornSnapshotIsIgnoredOnLoad(t *testing.T) {
	for name, tear := range map[string]func([]byte) []byte{
		"truncated": func(b []byte) []byte { return b[:len(b)/2] },
		"empty":     func([]byte) []byte { return nil },
		"zeroed":    func(b []byte) []byte { return make([]byte, len(b)) },
		"flipped":   func(b []byte) []byte { b[len(b)-3] ^= 0x40; return b },
	} {
		t.Run(name, func(t *testing.T) {
			tb := newTestBroker(t, nil, storage.Options{})
			p, dir := tb.p, tb.p.log.Dir()
			tb.mustProduce(t, buildBatch(t, idem(5, 0, 0, 2)))
			if err := p.snapshotProducers(); err != nil {
				t.Fatal(err)
			}
			tb.mustProduce(t, buildBatch(t, idem(5, 0, 2, 2)))
			if err := p.snapshotProducersWith(nil); err != nil {
				t.Fatal(err)
			}
			path := snapshotPath(dir, 4)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tear(raw), 0o644); err != nil {
				t.Fatal(err)
			}
			again := &partition{log: p.log}
			if err := again.loadProducerState(); err != nil {
				t.Fatal(err)
			}
			if again.snapshotAt != 2 {
				t.Fatalf("loaded from snapshot at %d, want the intact one at 2", again.snapshotAt)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Fatalf("torn snapshot left in place: %v", err)
			}
			if e := again.producers.m[5]; e == nil || e.lastSeq != 3 {
				t.Fatalf("producer 5 after loading past a torn snapshot: %+v, want lastSeq 3", e)
			}
		})
	}
}
