package record

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// errShort says the room given to inflate was too small.
var errShort = errors.New("inflated records do not fit the room given")

// Room is where Inflate takes the memory it inflates into: the Budget to
// draw from (nil: none) and how long to wait for it.
type Room struct {
	Budget   *Budget
	Ctx      context.Context // nil: never cancelled
	Deadline time.Time       // zero: no deadline
}

// maxZstdWindow is the largest zstd window accepted, the default limit of
// the zstd library Kafka's Java broker uses (2^27): frames written at
// Kafka's highest compression.zstd.level still decode.
const maxZstdWindow = 128 << 20

// keepZstdWindow is the largest window whose buffers a pooled Coder keeps.
const keepZstdWindow = 8 << 20

// minRoom is the least room Inflate starts with.
const minRoom = 64 << 10

// Inflate returns the records of a batch compressed with codec, inflated
// into memory lent by room.Budget, waiting for it until the deadline. The
// room is what the data says it inflates to where that is certain
// (snappy's stated length, lz4 and zstd block headers); otherwise a guess (a
// gzip trailer, four times the input), and when the guess is short, a
// pass that counts the inflated bytes without keeping them, then the
// exact room. No batch holds more memory than the budget lent it, and no
// retry leaves a buffer of the wrong size behind. The caller gives the
// loan back with Return once it no longer needs the records, whether or
// not err is nil.
func (c *Coder) Inflate(room Room, codec int8, src []byte) (out []byte, loan Loan, err error) {
	size, exact, err := inflatedSize(codec, src)
	if err != nil {
		return nil, Loan{}, fmt.Errorf("decompress codec %d: %w", codec, err)
	}
	ctx := room.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	for {
		if size < 0 {
			if size, err = c.countInflated(ctx, room, codec, src); err != nil {
				return nil, Loan{}, err
			}
			exact = true
		}
		loan, err := room.Budget.lend(ctx, room.Deadline, size, 0)
		if err != nil {
			return nil, Loan{}, err
		}
		out, err = c.inflate(loan.Buf()[:0:size], codec, src)
		if errors.Is(err, errShort) && !exact {
			loan.Return()
			size = -1
			continue
		}
		if err != nil {
			err = fmt.Errorf("decompress codec %d: %w", codec, err)
		}
		return out, loan, err
	}
}

// Decompress appends the records of a batch compressed with codec to dst,
// refusing more than MaxInflated bytes, with the room Inflate would take
// but grown from dst. Snappy is read raw and in the xerial framing.
func (c *Coder) Decompress(dst []byte, codec int8, src []byte) ([]byte, error) {
	size, exact, err := inflatedSize(codec, src)
	if err != nil {
		return dst, fmt.Errorf("decompress codec %d: %w", codec, err)
	}
	start := len(dst)
	for {
		if size < 0 {
			if size, err = c.countInflated(context.Background(), Room{}, codec, src); err != nil {
				return dst, err
			}
			exact = true
		}
		dst = slices.Grow(dst[:start], size)
		out, err := c.inflate(dst[start:start:start+size], codec, src)
		if errors.Is(err, errShort) && !exact {
			size = -1
			continue
		}
		if err != nil {
			return dst[:start], fmt.Errorf("decompress codec %d: %w", codec, err)
		}
		return append(dst[:start], out...), nil
	}
}

// inflatedSize is the room to inflate src into first, and whether it is
// certain to hold every byte: what the data says it inflates to where it
// says so believably, otherwise a guess; -1 when nothing short of counting
// tells (zstd whose compressed blocks may pass MaxInflated).
func inflatedSize(codec int8, src []byte) (size int, exact bool, err error) {
	size = 4 * len(src)
	switch codec {
	case CompressionSnappy:
		if n, ok := snappyLen(src); ok {
			if n > MaxInflated {
				return 0, false, ErrTooLarge
			}
			return n, true, nil
		}
	case CompressionGzip:
		// A single-member stream ends with its size mod 2^32; deflate
		// inflates at most 1032 times.
		if len(src) >= 18 {
			if n := int(binary.LittleEndian.Uint32(src[len(src)-4:])); n <= 1032*len(src) {
				size = n
			}
		}
	case CompressionLZ4:
		switch n, err := lz4Bound(src); {
		case err != nil: // the reader tells what is wrong
		case n > MaxInflated:
			return -1, false, nil
		default:
			return int(max(n, 1)), true, nil
		}
	case CompressionZstd:
		b, err := zstdBound(src)
		switch {
		case err != nil:
			return 0, false, err
		case b.bound > MaxInflated:
			return -1, false, nil
		}
		// The decoder never writes past what the blocks allow, so it
		// never grows this buffer.
		return int(b.bound) + zstdSlack, true, nil
	}
	return min(max(size, minRoom), MaxInflated), false, nil
}

// countInflated is the exact room src inflates into, counted by
// inflating it into nothing; refused past MaxInflated. Streaming zstd
// keeps a window of its own meanwhile, which it takes from room's budget.
func (c *Coder) countInflated(ctx context.Context, room Room, codec int8, src []byte) (int, error) {
	var window int
	if codec == CompressionZstd {
		var h zstd.Header
		if err := h.Decode(src); err == nil {
			window = int(min(h.WindowSize, maxZstdWindow))
		}
	}
	loan, err := room.Budget.lend(ctx, room.Deadline, 0, int64(window))
	if err != nil {
		return 0, err
	}
	defer loan.Return()
	r, err := c.reader(codec, src)
	if err != nil {
		return 0, fmt.Errorf("decompress codec %d: %w", codec, err)
	}
	n, err := io.Copy(io.Discard, io.LimitReader(r, MaxInflated+1))
	if window > keepZstdWindow {
		c.zstr = nil // its history buffers are too big to keep pooled
	}
	switch {
	case err != nil:
		return 0, fmt.Errorf("decompress codec %d: %w", codec, err)
	case n > MaxInflated:
		return 0, fmt.Errorf("decompress codec %d: %w", codec, ErrTooLarge)
	}
	if codec == CompressionZstd {
		n += zstdSlack
	}
	return int(max(n, 1)), nil
}

// snappyLen is the inflated size raw or xerial snappy data claims.
func snappyLen(src []byte) (int, bool) {
	if !IsXerial(src) {
		n, err := s2.DecodedLen(src)
		return n, err == nil
	}
	total := 0
	for b := src[min(16, len(src)):]; len(b) >= 4; {
		n := binary.BigEndian.Uint32(b)
		if uint64(n) > uint64(len(b)-4) {
			return 0, false
		}
		m, err := s2.DecodedLen(b[4 : 4+n])
		if err != nil {
			return 0, false
		}
		total += m
		if total > MaxInflated {
			return total, true
		}
		b = b[4+n:]
	}
	return total, true
}

// unzstd inflates zstd data in one call straight into dst's capacity,
// which zstdBound or countInflated made large enough for every block: the
// decoder keeps its window in dst itself.
func (c *Coder) unzstd(dst, src []byte) ([]byte, error) {
	if c.zdec == nil {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(MaxInflated),
			zstd.WithDecodeAllCapLimit(true), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return dst, err
		}
		c.zdec = d
	}
	out, err := c.zdec.DecodeAll(src, dst)
	if errors.Is(err, zstd.ErrDecoderSizeExceeded) {
		err = errShort
	}
	if cap(dst) > smallLoan {
		// The decoder keeps a reference to the last buffer it decoded
		// into until its next frame; an empty frame drops it, so a large
		// buffer dies with its loan, not with this pooled Coder.
		c.zdec.DecodeAll(emptyZstdFrame, nil)
	}
	return out, err
}

// emptyZstdFrame is a zstd frame of no bytes: the magic, a single-segment
// descriptor stating size 0, and one empty last raw block.
var emptyZstdFrame = []byte{0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x01, 0x00, 0x00}
