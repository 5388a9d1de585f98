package broker

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"

	"spool/storage"
)

// maxInflated bounds what one produced batch may inflate to, so a hostile
// batch cannot exhaust memory.
const maxInflated = 256 << 20

var errTooLarge = fmt.Errorf("batch inflates beyond %d bytes", maxInflated)

// Decoders and buffers are reused across requests: inflating is on the
// produce hot path for compressed topics. The pools hold caches only.
var (
	bufferPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}
	gzipPool   sync.Pool // *gzip.Reader
	lz4Pool    = sync.Pool{New: func() any { return lz4.NewReader(nil) }}
	zstdPool   = sync.Pool{New: func() any {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxInflated))
		if err != nil {
			return err
		}
		return d
	}}
)

func releaseBuffer(b *[]byte) {
	if cap(*b) <= 8<<20 { // keep huge one-off buffers out of the pool
		*b = (*b)[:0]
		bufferPool.Put(b)
	}
}

// decompress inflates a batch's records into a pooled buffer the caller
// releases. Snappy is accepted raw and in the xerial framing Java clients
// write.
func decompress(codec int8, src []byte) (*[]byte, error) {
	buf := bufferPool.Get().(*[]byte)
	var err error
	switch codec {
	case storage.CompressionGzip:
		*buf, err = gunzip(*buf, src)
	case storage.CompressionSnappy:
		*buf, err = unsnappy(*buf, src)
	case storage.CompressionLZ4:
		r := lz4Pool.Get().(*lz4.Reader)
		r.Reset(bytes.NewReader(src))
		*buf, err = readAllLimited(*buf, r)
		lz4Pool.Put(r)
	case storage.CompressionZstd:
		*buf, err = unzstd(*buf, src)
	default:
		err = fmt.Errorf("unknown compression codec %d", codec)
	}
	if err != nil {
		releaseBuffer(buf)
		return nil, fmt.Errorf("decompress codec %d: %w", codec, err)
	}
	return buf, nil
}

func gunzip(dst, src []byte) ([]byte, error) {
	var zr *gzip.Reader
	if v := gzipPool.Get(); v != nil {
		zr = v.(*gzip.Reader)
		if err := zr.Reset(bytes.NewReader(src)); err != nil {
			return dst, err
		}
	} else {
		var err error
		if zr, err = gzip.NewReader(bytes.NewReader(src)); err != nil {
			return dst, err
		}
	}
	defer gzipPool.Put(zr)
	return readAllLimited(dst, zr)
}

func unzstd(dst, src []byte) ([]byte, error) {
	v := zstdPool.Get()
	d, ok := v.(*zstd.Decoder)
	if !ok {
		return dst, v.(error)
	}
	defer zstdPool.Put(d)
	return d.DecodeAll(src, dst[:0])
}

// readAllLimited reads r to the end into dst, refusing more than
// maxInflated bytes.
func readAllLimited(dst []byte, r io.Reader) ([]byte, error) {
	dst = dst[:0]
	for {
		if len(dst) == cap(dst) {
			if len(dst) >= maxInflated {
				return dst, errTooLarge
			}
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// xerialHeader starts snappy data framed the way Java clients write it:
// magic, then version and compatible version (4 bytes each).
var xerialHeader = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

func unsnappy(dst, src []byte) ([]byte, error) {
	dst = dst[:0]
	if !bytes.HasPrefix(src, xerialHeader) {
		return snappyBlock(dst, src)
	}
	if len(src) < 16 {
		return dst, errors.New("snappy: short xerial header")
	}
	for b := src[16:]; len(b) > 0; {
		if len(b) < 4 {
			return dst, errors.New("snappy: truncated xerial block length")
		}
		n := binary.BigEndian.Uint32(b)
		if uint64(n) > uint64(len(b)-4) {
			return dst, fmt.Errorf("snappy: xerial block of %d bytes, %d remain", n, len(b)-4)
		}
		var err error
		if dst, err = snappyBlock(dst, b[4:4+n]); err != nil {
			return dst, err
		}
		b = b[4+n:]
	}
	return dst, nil
}

// snappyBlock appends one decoded raw snappy block to dst.
func snappyBlock(dst, block []byte) ([]byte, error) {
	n, err := s2.DecodedLen(block)
	if err != nil {
		return dst, fmt.Errorf("snappy: %w", err)
	}
	if n > maxInflated-len(dst) {
		return dst, errTooLarge
	}
	start := len(dst)
	dst = slices.Grow(dst, n)
	out, err := s2.Decode(dst[start:start+n], block)
	if err != nil {
		return dst, fmt.Errorf("snappy: %w", err)
	}
	return dst[:start+len(out)], nil
}
