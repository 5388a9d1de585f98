package record

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// MaxInflated bounds what one batch may inflate to, wherever it is
// inflated (produce validation, timestamp lookups, the cleaner, tools), so
// a hostile batch cannot exhaust memory.
const MaxInflated = 256 << 20

// ErrTooLarge reports a batch that inflates beyond MaxInflated.
var ErrTooLarge = fmt.Errorf("batch inflates beyond %d bytes", MaxInflated)

// Coder inflates and deflates records, reusing its coders and buffers
// from call to call: a zstd coder alone costs megabytes to build. A Coder
// is for one goroutine at a time; Decompress and Compress borrow one from
// a pool.
type Coder struct {
	src  bytes.Reader
	gzr  *gzip.Reader
	gzw  *gzip.Writer
	lzr  *lz4.Reader
	lzw  *lz4.Writer
	zdec *zstd.Decoder
	zenc *zstd.Encoder
	out  appendWriter
	snap []byte // one snappy block
}

var coders = sync.Pool{New: func() any { return new(Coder) }}

// Decompress appends the records of a batch compressed with codec to dst,
// with a pooled Coder.
func Decompress(dst []byte, codec int8, src []byte) ([]byte, error) {
	c := coders.Get().(*Coder)
	defer coders.Put(c)
	return c.Decompress(dst, codec, src)
}

// Compress appends records deflated with codec to dst, with a pooled
// Coder; xerial frames snappy the way Java clients do.
func Compress(dst []byte, codec int8, records []byte, xerial bool) ([]byte, error) {
	c := coders.Get().(*Coder)
	defer coders.Put(c)
	return c.Compress(dst, codec, records, xerial)
}

// Decompress appends the records of a batch compressed with codec to dst,
// refusing more than MaxInflated bytes. Snappy is read raw and in the
// xerial framing.
func (c *Coder) Decompress(dst []byte, codec int8, src []byte) ([]byte, error) {
	var err error
	switch codec {
	case CompressionGzip:
		dst, err = c.gunzip(dst, src)
	case CompressionSnappy:
		dst, err = unsnappy(dst, src)
	case CompressionLZ4:
		if c.lzr == nil {
			c.lzr = lz4.NewReader(nil)
		}
		c.src.Reset(src)
		c.lzr.Reset(&c.src)
		dst, err = readAllLimited(dst, c.lzr)
	case CompressionZstd:
		dst, err = c.unzstd(dst, src)
	default:
		return dst, fmt.Errorf("%w: compression codec %d", ErrCorrupt, codec)
	}
	if err != nil {
		return dst, fmt.Errorf("decompress codec %d: %w", codec, err)
	}
	return dst, nil
}

func (c *Coder) gunzip(dst, src []byte) ([]byte, error) {
	c.src.Reset(src)
	if c.gzr == nil {
		zr, err := gzip.NewReader(&c.src)
		if err != nil {
			return dst, err
		}
		c.gzr = zr
	} else if err := c.gzr.Reset(&c.src); err != nil {
		return dst, err
	}
	return readAllLimited(dst, c.gzr)
}

func (c *Coder) unzstd(dst, src []byte) ([]byte, error) {
	if c.zdec == nil {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(MaxInflated))
		if err != nil {
			return dst, err
		}
		c.zdec = d
	}
	start := len(dst)
	out, err := c.zdec.DecodeAll(src, dst)
	if err == nil && len(out)-start > MaxInflated {
		err = ErrTooLarge
	}
	return out, err
}

// readAllLimited appends r's bytes to dst, refusing more than MaxInflated.
func readAllLimited(dst []byte, r io.Reader) ([]byte, error) {
	start := len(dst)
	for {
		if len(dst) == cap(dst) {
			if len(dst)-start >= MaxInflated {
				return dst, ErrTooLarge
			}
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):min(cap(dst), start+MaxInflated+1)])
		dst = dst[:len(dst)+n]
		if len(dst)-start > MaxInflated {
			return dst, ErrTooLarge
		}
		if errors.Is(err, io.EOF) {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// Compress appends records deflated with codec to dst. xerial keeps the
// snappy framing a batch arrived in, since some clients read only what
// they write.
func (c *Coder) Compress(dst []byte, codec int8, records []byte, xerial bool) ([]byte, error) {
	c.out.b = dst
	var err error
	switch codec {
	case CompressionNone:
		return append(dst, records...), nil
	case CompressionGzip:
		if c.gzw == nil {
			c.gzw = gzip.NewWriter(nil)
		}
		c.gzw.Reset(&c.out)
		err = writeClose(c.gzw, records)
	case CompressionLZ4:
		if c.lzw == nil {
			c.lzw = lz4.NewWriter(nil)
		}
		c.lzw.Reset(&c.out)
		err = writeClose(c.lzw, records)
	case CompressionZstd:
		if c.zenc == nil {
			// The options franz-go's producer uses, which every client reads.
			if c.zenc, err = zstd.NewWriter(nil, zstd.WithWindowSize(64<<10),
				zstd.WithEncoderConcurrency(1), zstd.WithZeroFrames(true)); err != nil {
				return dst, fmt.Errorf("zstd: %w", err)
			}
		}
		return c.zenc.EncodeAll(records, dst), nil
	case CompressionSnappy:
		return c.snappy(dst, records, xerial), nil
	default:
		return dst, fmt.Errorf("%w: compression codec %d", ErrCorrupt, codec)
	}
	out := c.out.b
	c.out.b = nil
	if err != nil {
		return dst, fmt.Errorf("compress codec %d: %w", codec, err)
	}
	return out, nil
}

func writeClose(w io.WriteCloser, b []byte) error {
	if _, err := w.Write(b); err != nil {
		return err
	}
	return w.Close()
}

// appendWriter is an io.Writer appending to a slice the caller owns.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}
