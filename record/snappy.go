package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/klauspost/compress/s2"
)

// xerialMagic starts snappy data framed the way Java clients write it:
// the magic, then a version and a compatible version (4 bytes each), then
// blocks each preceded by a 4-byte big-endian length.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

// xerialBlock is the block size the Java client uses inside the framing.
const xerialBlock = 32 << 10

// IsXerial reports snappy data in the xerial framing.
func IsXerial(b []byte) bool { return bytes.HasPrefix(b, xerialMagic) }

// unsnappy appends snappy data, raw or xerial-framed, to dst.
func unsnappy(dst, src []byte) ([]byte, error) {
	if !IsXerial(src) {
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

// snappyBlock appends one decoded raw snappy block to dst, within its
// capacity.
func snappyBlock(dst, block []byte) ([]byte, error) {
	n, err := s2.DecodedLen(block)
	if err != nil {
		return dst, fmt.Errorf("snappy: %w", err)
	}
	if n > cap(dst)-len(dst) {
		return dst, errShort
	}
	at := len(dst)
	out, err := s2.Decode(dst[at:at+n], block)
	if err != nil {
		return dst, fmt.Errorf("snappy: %w", err)
	}
	return dst[:at+len(out)], nil
}

// snappy appends records compressed raw, or in xerial framing.
func (c *Coder) snappy(dst, src []byte, xerial bool) []byte {
	if !xerial {
		c.snap = s2.EncodeSnappy(c.snap[:0], src)
		return append(dst, c.snap...)
	}
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
