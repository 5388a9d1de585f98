package record

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// zstdInputs are plaintexts of every kind a batch holds: empty, random,
// repetitive, zeros, a mix, across block boundaries.
func zstdInputs() map[string][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 300<<10)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	mixed := make([]byte, 0, 1<<20)
	for len(mixed) < 600<<10 {
		n := 1 + rng.IntN(5000)
		if rng.IntN(2) == 0 {
			mixed = append(mixed, bytes.Repeat([]byte{byte(n)}, n)...)
		} else {
			mixed = append(mixed, random[:n]...)
		}
	}
	return map[string][]byte{
		"empty": {}, "byte": {7}, "random": random, "mixed": mixed,
		"zeros": make([]byte, 1<<20+5), "text": bytes.Repeat([]byte("spool record "), 40_000),
	}
}

// zstdEncodings encode a plaintext as the writers clients use do: whole
// frames stating their size at each level, streams without it at several
// windows, several frames, and a skippable frame first.
func zstdEncodings(t *testing.T, plain []byte) map[string][]byte {
	out := map[string][]byte{}
	for _, lvl := range []zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedDefault, zstd.SpeedBetterCompression, zstd.SpeedBestCompression} {
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(lvl), zstd.WithEncoderConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprintf("all/%v", lvl)] = enc.EncodeAll(plain, nil)
	}
	for _, window := range []int{1 << 10, 64 << 10, 1 << 20, 8 << 20} {
		var buf bytes.Buffer
		w, err := zstd.NewWriter(&buf, zstd.WithWindowSize(window))
		if err != nil {
			t.Fatal(err)
		}
		for b := plain; len(b) > 0; b = b[min(len(b), 16<<10):] {
			w.Write(b[:min(len(b), 16<<10)])
		}
		w.Close()
		out[fmt.Sprintf("stream/%d", window)] = buf.Bytes()
	}
	half := len(plain) / 2
	enc, _ := zstd.NewWriter(nil)
	out["two frames"] = enc.EncodeAll(plain[half:], enc.EncodeAll(plain[:half], nil))
	skip := []byte{0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3}
	out["skippable first"] = enc.EncodeAll(plain, skip)
	return out
}

// The room read from zstd block headers holds every block, so the decoder
// inflates in place and never grows the buffer lent.
func TestZstdBoundHoldsEveryFrame(t *testing.T) {
	budget := NewBudget(64 << 20)
	for name, plain := range zstdInputs() {
		for enc, z := range zstdEncodings(t, plain) {
			b, err := zstdBound(z)
			if err != nil || b.bound < int64(len(plain)) {
				t.Fatalf("%s %s: bound %d of %d bytes, %v", name, enc, b.bound, len(plain), err)
			}
			out, loan, err := Inflate(Room{Budget: budget}, CompressionZstd, z)
			if err != nil || !bytes.Equal(out, plain) {
				t.Fatalf("%s %s: inflated %d of %d bytes: %v", name, enc, len(out), len(plain), err)
			}
			if buf := loan.Buf(); len(plain) > 0 && unsafe.SliceData(out) != unsafe.SliceData(buf) {
				t.Fatalf("%s %s: the decoder grew the buffer lent", name, enc)
			}
			loan.Return()
		}
	}
	if n := budget.InUse(); n != 0 {
		t.Fatalf("%d bytes still lent after every loan came back", n)
	}
}

// Cut or damaged zstd data is refused by its headers.
func TestZstdBoundRefusesBrokenFrames(t *testing.T) {
	enc, _ := zstd.NewWriter(nil)
	z := enc.EncodeAll(bytes.Repeat([]byte("spool"), 100_000), nil)
	for _, cut := range []int{1, 5, 9, len(z) / 2, len(z) - 1} {
		if _, err := zstdBound(z[:cut]); err == nil {
			t.Errorf("cut at %d of %d: no error", cut, len(z))
		}
	}
	var h zstd.Header
	if err := h.Decode(z); err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), z...)
	bad[h.HeaderSize] |= 0x06 // the first block's type
	if _, err := zstdBound(bad); !errors.Is(err, ErrCorrupt) {
		t.Errorf("reserved block type: %v", err)
	}
}

// zeroBomb is n zero bytes zstd-compressed, stating their size or not.
func zeroBomb(t testing.TB, n int, stream bool) []byte {
	zeros := make([]byte, n)
	if !stream {
		enc, _ := zstd.NewWriter(nil)
		return enc.EncodeAll(zeros, nil)
	}
	var buf bytes.Buffer
	w, _ := zstd.NewWriter(&buf, zstd.WithWindowSize(1<<20))
	w.Write(zeros)
	w.Close()
	return buf.Bytes()
}

// Batches inflated one after another reuse the budget's buffer instead of
// allocating their own: what the collector is left with stays a fraction
// of what was inflated, and the budget never holds more than its size.
func TestBudgetLendsTheSameMemoryAgain(t *testing.T) {
	const n = 40 << 20
	bombs := [][]byte{zeroBomb(t, n, false), zeroBomb(t, n, true)}
	budget := NewBudget(2*n + 16<<20) // two loans at a time
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 4 {
				out, loan, err := Inflate(Room{Budget: budget}, CompressionZstd, bombs[(i+j)%2])
				if err != nil || len(out) != n {
					t.Errorf("inflated %d bytes: %v", len(out), err)
				}
				if held := budget.Held(); held > budget.Max() {
					t.Errorf("budget holds %d MiB of %d", held>>20, budget.Max()>>20)
				}
				loan.Return()
			}
		})
	}
	wg.Wait()
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 3*n {
		t.Fatalf("allocated %d MiB to inflate 16 batches of %d MiB", alloc>>20, n>>20)
	}
	if budget.InUse() != 0 {
		t.Fatalf("%d bytes still lent", budget.InUse())
	}
}

// A loan that does not fit waits for room, and gives up at its deadline
// with ErrBudget.
func TestBudgetWaitsThenTimesOut(t *testing.T) {
	const big = 3 * smallLoan // each loan one of the budget's own buffers
	budget := NewBudget(4 * smallLoan)
	first, err := budget.lend(context.Background(), time.Time{}, big, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := budget.lend(context.Background(), time.Now().Add(50*time.Millisecond), big, 0); !errors.Is(err, ErrBudget) {
		t.Fatalf("second loan past the budget: %v", err)
	}
	got := make(chan error, 1)
	go func() {
		l, err := budget.lend(context.Background(), time.Now().Add(time.Minute), big, 0)
		l.Return()
		got <- err
	}()
	time.Sleep(20 * time.Millisecond)
	first.Return()
	if err := <-got; err != nil {
		t.Fatalf("loan after room was given back: %v", err)
	}
	if held := budget.Held(); held != big {
		t.Fatalf("budget holds %d bytes, want one buffer of %d", held, big)
	}
}

// Gzip of two members, whose trailer states only the second's size, is
// counted and inflated into the exact room; lz4 gets its room from its
// block headers.
func TestInflateCountsWhatItCannotRead(t *testing.T) {
	plain := bytes.Repeat([]byte("spool record "), 2*smallLoan/13) // past the pooled sizes
	for _, codec := range []int8{CompressionGzip, CompressionLZ4} {
		first := plain
		if codec == CompressionGzip {
			first = plain[:len(plain)-13]
		}
		z, err := Compress(nil, codec, first, false)
		if err != nil {
			t.Fatal(err)
		}
		if codec == CompressionGzip {
			if z, err = Compress(z, codec, plain[len(plain)-13:], false); err != nil {
				t.Fatal(err)
			}
			if n := binary.LittleEndian.Uint32(z[len(z)-4:]); n != 13 {
				t.Fatalf("trailer states %d bytes", n)
			}
		}
		budget := NewBudget(64 << 20)
		out, loan, err := Inflate(Room{Budget: budget}, codec, z)
		if err != nil || !bytes.Equal(out, plain) {
			t.Fatalf("codec %d: %d of %d bytes: %v", codec, len(out), len(plain), err)
		}
		if c := cap(loan.Buf()); c < len(plain) || c > roundLoan(len(plain)+4<<20) {
			t.Fatalf("codec %d: lent %d bytes for %d", codec, c, len(plain))
		}
		loan.Return()
		if budget.InUse() != 0 {
			t.Fatalf("codec %d: %d bytes still lent", codec, budget.InUse())
		}
	}
}

// A large buffer lent to inflate into is garbage once its loan is given
// back: the pooled Coder keeps no reference to it (the zstd decoder did,
// which held 200 MiB for as long as the process idled).
func TestInflateKeepsNoReferenceToTheLoan(t *testing.T) {
	c := new(Coder)
	for _, codec := range []int8{CompressionZstd, CompressionGzip, CompressionLZ4, CompressionSnappy} {
		const n = 2 * smallLoan // past the pooled sizes
		z, err := c.Compress(nil, codec, make([]byte, n), false)
		if err != nil {
			t.Fatal(err)
		}
		out, loan, err := c.Inflate(Room{}, codec, z)
		if err != nil || len(out) != n {
			t.Fatalf("codec %d: inflated %d bytes: %v", codec, len(out), err)
		}
		freed := make(chan struct{})
		runtime.SetFinalizer(unsafe.SliceData(out), func(*byte) { close(freed) })
		out = nil
		loan.Return()
		runtime.GC()
		select {
		case <-freed:
		case <-time.After(5 * time.Second):
			t.Fatalf("codec %d: the buffer lent outlived its loan", codec)
		}
	}
	runtime.KeepAlive(c)
}

// The room read from lz4 frame headers holds every block of the frames
// writers produce, at each block size, with block and content checksums.
func TestLZ4BoundHoldsEveryFrame(t *testing.T) {
	budget := NewBudget(64 << 20)
	for name, plain := range zstdInputs() {
		for _, size := range []lz4.BlockSize{lz4.Block64Kb, lz4.Block256Kb, lz4.Block1Mb, lz4.Block4Mb} {
			for _, sums := range []bool{false, true} {
				var buf bytes.Buffer
				w := lz4.NewWriter(&buf)
				if err := w.Apply(lz4.BlockSizeOption(size), lz4.BlockChecksumOption(sums), lz4.ChecksumOption(sums),
					lz4.SizeOption(uint64(len(plain)))); err != nil {
					t.Fatal(err)
				}
				w.Write(plain)
				w.Close()
				n, err := lz4Bound(buf.Bytes())
				if err != nil || n < int64(len(plain)) {
					t.Fatalf("%s %v %v: bound %d of %d bytes, %v", name, size, sums, n, len(plain), err)
				}
				out, loan, err := Inflate(Room{Budget: budget}, CompressionLZ4, buf.Bytes())
				if err != nil || !bytes.Equal(out, plain) {
					t.Fatalf("%s %v %v: inflated %d of %d bytes: %v", name, size, sums, len(out), len(plain), err)
				}
				loan.Return()
			}
		}
	}
}
