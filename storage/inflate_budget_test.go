package storage

import (
	"context"
	"errors"
	"testing"
	"time"

	"spool/record"
)

// holdBudget takes all of b (and more) until the loan is returned, as a
// produce validating a big batch would: every other loan has to wait.
func holdBudget(t *testing.T, b *record.Budget) record.Loan {
	t.Helper()
	z, err := record.Compress(nil, record.CompressionZstd, make([]byte, 4*b.Max()), false)
	if err != nil {
		t.Fatal(err)
	}
	_, loan, err := record.Inflate(record.Room{Budget: b}, record.CompressionZstd, z)
	if err != nil {
		t.Fatal(err)
	}
	if b.InUse() < b.Max() {
		t.Fatalf("held %d of a %d-byte budget", b.InUse(), b.Max())
	}
	return loan
}

// The cleaner inflates compressed batches from the budget it is given:
// with none left it waits (a cancelled wait is a clean error that leaves
// the log as it was), it cleans once room is given back, and it keeps no
// room after.
func TestCleanWaitsForInflateBudget(t *testing.T) {
	clk := newFakeClock()
	l := openTestLog(t, t.TempDir(), compactConfig(), Options{Now: clk.Now})
	defer l.Close()
	latest := writeUpdates(t, l, clk, record.CompressionZstd, 2_000, 100, 25)
	rollNow(t, l, clk)
	before := len(readRecords(t, l))
	budget := record.NewBudget(16 << 10)
	held := holdBudget(t, budget)
	inUse := budget.InUse()
	c := NewCleaner(CleanerOptions{Inflate: budget})

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	_, err := c.Clean(ctx, l, 1<<62)
	cancel()
	if !errors.Is(err, record.ErrBudget) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("clean without room: %v, want a wait for budget cut by the context", err)
	}
	if got := budget.InUse(); got != inUse {
		t.Fatalf("budget in use %d after a refused clean, want %d", got, inUse)
	}
	if after := len(readRecords(t, l)); after != before {
		t.Fatalf("a clean that got no room changed the log: %d records, had %d", after, before)
	}

	done := make(chan error, 1)
	go func() { _, err := c.Clean(context.Background(), l, 1<<62); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("clean finished with no room to inflate: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	held.Return()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("clean still waiting after the budget was given back")
	}
	cleanAll(t, c, l)
	checkExactlyLatest(t, l, latest)
	if got := budget.InUse(); got != 0 {
		t.Fatalf("cleaner kept %d bytes of the budget after cleaning", got)
	}
}

// A timestamp lookup that has to inflate a batch waits for room in the
// log's budget instead of allocating past it, then answers.
func TestOffsetForTimestampWaitsForInflateBudget(t *testing.T) {
	budget := record.NewBudget(16 << 10)
	l := openTestLog(t, t.TempDir(), smallConfig(), Options{Inflate: budget})
	defer l.Close()
	for i := range 10 {
		b := makeBatch(t, batchSpec{records: 5, valueSize: 60, firstTs: int64(1000 + 100*i), tsStep: 10, codec: record.CompressionZstd})
		if _, err := l.Append(b, 0, -1); err != nil {
			t.Fatal(err)
		}
	}
	held := holdBudget(t, budget)
	type answer struct {
		off, ts int64
		ok      bool
		err     error
	}
	done := make(chan answer, 1)
	go func() {
		off, ts, ok, err := l.OffsetForTimestamp(1035)
		done <- answer{off, ts, ok, err}
	}()
	select {
	case a := <-done:
		t.Fatalf("lookup answered with no room to inflate: %+v", a)
	case <-time.After(300 * time.Millisecond):
	}
	held.Return()
	select {
	case a := <-done:
		if a.err != nil || !a.ok || a.off != 4 || a.ts != 1040 {
			t.Fatalf("lookup of 1035: %+v, want offset 4 at 1040", a)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("lookup still waiting after the budget was given back")
	}
	if got := budget.InUse(); got != 0 {
		t.Fatalf("lookup kept %d bytes of the budget", got)
	}
}
