package storage

import (
	"fmt"
	"testing"

	"spool/record"
)

func TestOffsetForTimestamp(t *testing.T) {
	for _, codec := range []int8{record.CompressionNone, record.CompressionGzip, record.CompressionSnappy, record.CompressionLZ4, record.CompressionZstd} {
		t.Run(fmt.Sprint("codec", codec), func(t *testing.T) {
			cfg := smallConfig()
			cfg.SegmentBytes = 3000
			cfg.IndexIntervalBytes = 200
			l := openTestLog(t, t.TempDir(), cfg, Options{})
			defer l.Close()
			// Batch i holds 5 records with timestamps 1000+100i+10k.
			for i := 0; i < 150; i++ {
				b := makeBatch(t, batchSpec{records: 5, valueSize: 60, firstTs: int64(1000 + 100*i), tsStep: 10, codec: codec})
				if _, err := l.Append(b, 0, -1); err != nil {
					t.Fatal(err)
				}
			}
			if l.NumSegments() < 3 {
				t.Fatalf("want several segments, have %d", l.NumSegments())
			}
			cases := []struct{ ts, off, got int64 }{
				{0, 0, 1000},
				{1000, 0, 1000},
				{1001, 1, 1010},
				{1035, 4, 1040},
				{1041, 5, 1100},
				{1000 + 100*77 + 20, 77*5 + 2, 1000 + 100*77 + 20},
				{1000 + 100*149 + 40, 149*5 + 4, 1000 + 100*149 + 40},
			}
			for _, c := range cases {
				off, ts, ok, err := l.OffsetForTimestamp(c.ts)
				if err != nil || !ok || off != c.off || ts != c.got {
					t.Fatalf("ts %d: got (%d, %d, %v, %v), want (%d, %d)", c.ts, off, ts, ok, err, c.off, c.got)
				}
			}
			if _, _, ok, err := l.OffsetForTimestamp(1000 + 100*149 + 41); ok || err != nil {
				t.Fatalf("timestamp beyond the log found: %v %v", ok, err)
			}
			if ts, off := l.MaxTimestamp(); ts != 1000+100*149+40 || off != 149*5+4 {
				t.Fatalf("max timestamp (%d, %d)", ts, off)
			}
			// Respect the log start offset.
			if _, err := l.DeleteRecordsBefore(402); err != nil {
				t.Fatal(err)
			}
			if off, _, ok, _ := l.OffsetForTimestamp(0); !ok || off != 402 {
				t.Fatalf("lookup below start gave %d", off)
			}
		})
	}
}

func TestMaxTimestampOutOfOrder(t *testing.T) {
	l := openTestLog(t, t.TempDir(), smallConfig(), Options{})
	defer l.Close()
	if ts, off := l.MaxTimestamp(); ts != -1 || off != -1 {
		t.Fatalf("empty log: (%d, %d)", ts, off)
	}
	for i, ts := range []int64{500, 9000, 700, 800} {
		b := makeBatch(t, batchSpec{records: 2, valueSize: 5, firstTs: ts, tsStep: -1})
		if _, err := l.Append(b, 0, -1); err != nil {
			t.Fatal(err, i)
		}
	}
	if ts, off := l.MaxTimestamp(); ts != 9000 || off != 2 {
		t.Fatalf("(%d, %d), want (9000, 2)", ts, off)
	}
}
