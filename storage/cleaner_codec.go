package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// xerialBlock is the block size the Java client uses inside xerial framing.
const xerialBlock = 32 << 10

// codecs inflates and deflates record sets for one cleaner, reusing its
// coders and buffers: a zstd coder alone costs megabytes to build, which a
// clean of a million batches must not pay per batch.
type codecs struct {
	gzw  *gzip.Writer
	gzr  *gzip.Reader
	lzw  *lz4.Writer
	lzr  *lz4.Reader
	zenc *zstd.Encoder
	zdec *zstd.Decoder
	in   bytes.Buffer // decompressed records
	out  bytes.Buffer // compressed records
	snap []byte       // one snappy block
	zin  []byte       // zstd output, kept between calls for its capacity
	zout []byte
}

// decompress returns the records of a batch compressed with codec. The
// result is valid until the next call.
func (c *codecs) decompress(codec int8, src []byte) ([]byte, error) {
	c.in.Reset()
	var r io.Reader
	switch codec {
	case CompressionGzip:
		if c.gzr == nil {
			c.gzr = new(gzip.Reader)
		}
		if err := c.gzr.Reset(bytes.NewReader(src)); err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		r = c.gzr
	case CompressionLZ4:
		if c.lzr == nil {
			c.lzr = lz4.NewReader(nil)
		}
		c.lzr.Reset(bytes.NewReader(src))
		r = c.lzr
	case CompressionZstd:
		if c.zdec == nil {
			d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxDecompressed))
			if err != nil {
				return nil, fmt.Errorf("zstd: %w", err)
			}
			c.zdec = d
		}
		out, err := c.zdec.DecodeAll(src, c.zin[:0])
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		c.zin = out
		return out, nil
	default:
		return decompress(codec, src)
	}
	if _, err := c.in.ReadFrom(io.LimitReader(r, maxDecompressed)); err != nil {
		return nil, fmt.Errorf("decompress codec %d: %w", codec, err)
	}
	return c.in.Bytes(), nil
}

// compress deflates records with codec; xerial keeps the snappy framing the
// batch arrived in, since some clients only read what they wrote. The
// result is valid until the next call.
func (c *codecs) compress(codec int8, records []byte, xerial bool) ([]byte, error) {
	c.out.Reset()
	var err error
	switch codec {
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
			c.zenc, err = zstd.NewWriter(nil, zstd.WithWindowSize(64<<10),
				zstd.WithEncoderConcurrency(1), zstd.WithZeroFrames(true))
			if err != nil {
				return nil, fmt.Errorf("zstd: %w", err)
			}
		}
		c.zout = c.zenc.EncodeAll(records, c.zout[:0])
		return c.zout, nil
	case CompressionSnappy:
		if xerial {
			return c.appendXerial(c.out.Bytes()[:0], records), nil
		}
		c.snap = s2.EncodeSnappy(c.snap[:0], records)
		return c.snap, nil
	default:
		return nil, fmt.Errorf("%w: compression codec %d", ErrCorruptBatch, codec)
	}
	if err != nil {
		return nil, fmt.Errorf("compress codec %d: %w", codec, err)
	}
	return c.out.Bytes(), nil
}

func writeClose(w io.WriteCloser, b []byte) error {
	if _, err := w.Write(b); err != nil {
		return err
	}
	return w.Close()
}

// appendXerial frames snappy blocks the way the Java client does: magic,
// version 1, compatible version 1, then length-prefixed blocks.
func (c *codecs) appendXerial(dst, src []byte) []byte {
	dst = append(dst, xerialMagic...)
	dst = binary.BigEndian.AppendUint32(dst, 1)
	dst = binary.BigEndian.AppendUint32(dst, 1)
	for len(src) > 0 {
		n := min(len(src), xerialBlock)
		c.snap = s2.EncodeSnappy(c.snap[:0], src[:n])
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(c.snap)))
		dst = append(dst, c.snap...)
		src = src[n:]
	}
	return dst
}
