package record

import (
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// zstdBlockMax is the most one zstd block inflates to (the format's
// Block_Maximum_Size).
const zstdBlockMax = 128 << 10

// zstdSlack is room past the bound the decoder may want for its fast
// copies.
const zstdSlack = 64

// zstdBounds is what zstdBound reads from a zstd stream's headers.
type zstdBounds struct {
	bound  int64 // the most its frames inflate to
	window int   // the largest window a frame asks for
}

// zstdBound reads the block headers of the zstd frames in src: raw and RLE
// blocks state the bytes they inflate to, a compressed block inflates to
// at most zstdBlockMax. Frames without a stated size (Java's streaming
// writer) are bounded this way before one byte is inflated, and data whose
// raw and RLE blocks alone, or stated size, pass MaxInflated is refused
// without inflating it.
func zstdBound(src []byte) (zstdBounds, error) {
	var b zstdBounds
	var exact int64 // bytes of raw and RLE blocks
	for len(src) > 0 {
		var h zstd.Header
		rest, err := h.DecodeAndStrip(src)
		if err != nil {
			return b, fmt.Errorf("zstd frame header: %w", err)
		}
		if h.Skippable {
			if uint64(h.SkippableSize) > uint64(len(rest)) {
				return b, fmt.Errorf("zstd skippable frame: %w", io.ErrUnexpectedEOF)
			}
			src = rest[h.SkippableSize:]
			continue
		}
		if h.HasFCS && h.FrameContentSize > MaxInflated {
			return b, ErrTooLarge
		}
		w := h.WindowSize
		if h.SingleSegment {
			w = h.FrameContentSize
		}
		b.window = max(b.window, int(min(w, MaxInflated)))
		if src, err = zstdBlocks(rest, &b.bound, &exact); err != nil {
			return b, err
		}
		if h.HasCheckSum {
			if len(src) < 4 {
				return b, fmt.Errorf("zstd checksum: %w", io.ErrUnexpectedEOF)
			}
			src = src[4:]
		}
		if exact > MaxInflated {
			return b, ErrTooLarge
		}
	}
	return b, nil
}

// zstdBlocks walks one frame's blocks, adding what they may inflate to to
// bound and what raw and RLE blocks inflate to to exact, and returns what
// follows the last block.
func zstdBlocks(src []byte, bound, exact *int64) ([]byte, error) {
	for {
		if len(src) < 3 {
			return nil, fmt.Errorf("zstd block header: %w", io.ErrUnexpectedEOF)
		}
		bh := uint32(src[0]) | uint32(src[1])<<8 | uint32(src[2])<<16
		src = src[3:]
		size := int(bh >> 3)
		var in, out int
		switch (bh >> 1) & 3 {
		case 0: // raw
			in, out = size, size
			*exact += int64(size)
		case 1: // RLE: one byte repeated size times
			in, out = 1, size
			*exact += int64(size)
		case 2:
			in, out = size, zstdBlockMax
		default:
			return nil, fmt.Errorf("%w: zstd reserved block type", ErrCorrupt)
		}
		if in > len(src) {
			return nil, fmt.Errorf("zstd block: %w", io.ErrUnexpectedEOF)
		}
		if out > zstdBlockMax {
			return nil, fmt.Errorf("%w: zstd block of %d bytes", ErrCorrupt, out)
		}
		*bound += int64(out)
		src = src[in:]
		if bh&1 != 0 {
			return src, nil
		}
	}
}
