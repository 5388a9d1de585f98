package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// maxDecompressed bounds what a timestamp lookup will inflate from one
// batch, so a hostile batch cannot exhaust memory.
const maxDecompressed = 256 << 20

// errNoRecord means a batch holds no record that matches.
var errNoRecord = errors.New("no matching record in batch")

// findRecord returns the offset and timestamp of the first record in batch
// (a whole v2 batch) at or above minOffset whose timestamp satisfies match.
// Compressed batches are inflated: gzip, snappy (raw or xerial-framed), lz4
// frames and zstd are all understood.
func findRecord(batch []byte, minOffset int64, match func(ts int64) bool) (int64, int64, error) {
	h, err := ParseBatchHeader(batch)
	if err != nil {
		return 0, 0, err
	}
	if h.LogAppendTime() {
		// Every record carries the batch's max timestamp.
		if !match(h.MaxTimestamp) {
			return 0, 0, errNoRecord
		}
		return max(h.BaseOffset, minOffset), h.MaxTimestamp, nil
	}
	recs := batch[BatchHeaderLen:]
	if h.Compression() != CompressionNone {
		if recs, err = decompress(h.Compression(), recs); err != nil {
			return 0, 0, err
		}
	}
	for i := int32(0); i < h.NumRecords && len(recs) > 0; i++ {
		n, rest, ok := uvarintZigzag(recs)
		if !ok || n < 0 || n > int64(len(rest)) {
			return 0, 0, fmt.Errorf("%w: record %d length", ErrCorruptBatch, i)
		}
		body := rest[:n]
		recs = rest[n:]
		if len(body) < 1 {
			return 0, 0, fmt.Errorf("%w: record %d empty", ErrCorruptBatch, i)
		}
		tsDelta, body, ok1 := uvarintZigzag(body[1:])
		offDelta, _, ok2 := uvarintZigzag(body)
		if !ok1 || !ok2 {
			return 0, 0, fmt.Errorf("%w: record %d header", ErrCorruptBatch, i)
		}
		off, ts := h.BaseOffset+offDelta, h.FirstTimestamp+tsDelta
		if off >= minOffset && match(ts) {
			return off, ts, nil
		}
	}
	return 0, 0, errNoRecord
}

// uvarintZigzag decodes one zigzag varint, as Kafka's records use.
func uvarintZigzag(b []byte) (int64, []byte, bool) {
	v, n := binary.Varint(b)
	if n <= 0 {
		return 0, b, false
	}
	return v, b[n:], true
}

// xerialMagic starts snappy data framed the way the Java client writes it.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

func decompress(codec int8, src []byte) ([]byte, error) {
	var r io.Reader
	switch codec {
	case CompressionGzip:
		zr, err := gzip.NewReader(bytes.NewReader(src))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		r = zr
	case CompressionSnappy:
		return snappyDecode(src)
	case CompressionLZ4:
		r = lz4.NewReader(bytes.NewReader(src))
	case CompressionZstd:
		zr, err := zstd.NewReader(bytes.NewReader(src), zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxMemory(maxDecompressed))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		defer zr.Close()
		r = zr
	default:
		return nil, fmt.Errorf("%w: compression codec %d", ErrCorruptBatch, codec)
	}
	out, err := io.ReadAll(io.LimitReader(r, maxDecompressed))
	if err != nil {
		return nil, fmt.Errorf("decompress codec %d: %w", codec, err)
	}
	return out, nil
}

func snappyDecode(src []byte) ([]byte, error) {
	if !bytes.HasPrefix(src, xerialMagic) {
		return checkedSnappy(nil, src)
	}
	// Framing: magic, version and compatible version (4 bytes each), then
	// blocks each preceded by a 4-byte big-endian length.
	if len(src) < 16 {
		return nil, fmt.Errorf("snappy: short xerial header")
	}
	var out []byte
	for b := src[16:]; len(b) > 0; {
		if len(b) < 4 {
			return nil, fmt.Errorf("snappy: truncated xerial block length")
		}
		n := binary.BigEndian.Uint32(b)
		if uint64(n) > uint64(len(b)-4) {
			return nil, fmt.Errorf("snappy: xerial block of %d bytes, %d remain", n, len(b)-4)
		}
		var err error
		if out, err = checkedSnappy(out, b[4:4+n]); err != nil {
			return nil, err
		}
		b = b[4+n:]
	}
	return out, nil
}

// checkedSnappy appends one decoded raw snappy block to dst.
func checkedSnappy(dst, block []byte) ([]byte, error) {
	n, err := s2.DecodedLen(block)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	if n > maxDecompressed-len(dst) {
		return nil, fmt.Errorf("snappy: block inflates to %d bytes", n)
	}
	dec, err := s2.Decode(nil, block)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	return append(dst, dec...), nil
}
