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
	zdec *zstd.Decoder // whole frames of a stated size
	zstr *zstd.Decoder // streams of an unstated size
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

// inflate appends at most cap(dst)-len(dst) inflated bytes to dst, and
// errShort when there are more.
func (c *Coder) inflate(dst []byte, codec int8, src []byte) ([]byte, error) {
	switch codec {
	case CompressionSnappy:
		return unsnappy(dst, src)
	case CompressionZstd:
		return c.unzstd(dst, src)
	}
	r, err := c.reader(codec, src)
	if err != nil {
		return dst, err
	}
	return readAllLimited(dst, r)
}

// reader is a pooled streaming decoder of src: zstd's keeps a window of
// its own, which inflate avoids by decoding whole frames in place.
func (c *Coder) reader(codec int8, src []byte) (io.Reader, error) {
	c.src.Reset(src)
	switch codec {
	case CompressionGzip:
		if c.gzr == nil {
			zr, err := gzip.NewReader(&c.src)
			if err != nil {
				return nil, err
			}
			c.gzr = zr
		} else if err := c.gzr.Reset(&c.src); err != nil {
			return nil, err
		}
		return c.gzr, nil
	case CompressionLZ4:
		if c.lzr == nil {
			c.lzr = lz4.NewReader(nil)
		}
		c.lzr.Reset(&c.src)
		return c.lzr, nil
	case CompressionZstd:
		if c.zstr == nil {
			d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(MaxInflated),
				zstd.WithDecoderMaxWindow(maxZstdWindow))
			if err != nil {
				return nil, err
			}
			c.zstr = d
		}
		if err := c.zstr.Reset(&c.src); err != nil {
			return nil, err
		}
		return c.zstr, nil
	}
	return nil, fmt.Errorf("%w: no streaming decoder for compression codec %d", ErrCorrupt, codec)
}

// readAllLimited appends r's bytes to dst up to its capacity, and errShort
// when r has more.
func readAllLimited(dst []byte, r io.Reader) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			var probe [1]byte
			n, err := io.ReadFull(r, probe[:])
			switch {
			case n > 0:
				return dst, errShort
			case errors.Is(err, io.EOF):
				return dst, nil
			}
			return dst, err
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
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

// Inflate is (*Coder).Inflate with a pooled Coder.
func Inflate(room Room, codec int8, src []byte) ([]byte, Loan, error) {
	c := coders.Get().(*Coder)
	defer coders.Put(c)
	return c.Inflate(room, codec, src)
}
