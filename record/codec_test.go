package record

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/klauspost/compress/s2"
)

func TestCodecsRoundTrip(t *testing.T) {
	recs := bytes.Repeat([]byte("spool record "), 20_000)
	for _, c := range []struct {
		codec  int8
		xerial bool
	}{{CompressionNone, false}, {CompressionGzip, false}, {CompressionSnappy, false}, {CompressionSnappy, true},
		{CompressionLZ4, false}, {CompressionZstd, false}} {
		t.Run(fmt.Sprintf("%d/%v", c.codec, c.xerial), func(t *testing.T) {
			z, err := Compress([]byte("prefix"), c.codec, recs, c.xerial)
			if err != nil || !bytes.HasPrefix(z, []byte("prefix")) {
				t.Fatalf("compress: %v", err)
			}
			z = z[len("prefix"):]
			if IsXerial(z) != c.xerial {
				t.Fatalf("xerial framing %v, want %v", IsXerial(z), c.xerial)
			}
			if c.codec == CompressionNone {
				return
			}
			out, err := Decompress([]byte("x"), c.codec, z)
			if err != nil || !bytes.Equal(out[1:], recs) || out[0] != 'x' {
				t.Fatalf("decompress: %d bytes, %v", len(out), err)
			}
		})
	}
}

func TestDecompressRefusesHostileInput(t *testing.T) {
	if _, err := Decompress(nil, 7, []byte{1}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("unknown codec: %v", err)
	}
	// A snappy block claiming to inflate past the limit is refused before
	// anything is allocated.
	huge := s2.EncodeSnappy(nil, make([]byte, 1<<10))
	claim := []byte{0x80, 0x80, 0x80, 0xa0, 0x01} // uvarint 0x14000000: 320 MiB
	if _, err := Decompress(nil, CompressionSnappy, append(claim, huge[2:]...)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized snappy block: %v", err)
	}
	for _, codec := range []int8{CompressionGzip, CompressionSnappy, CompressionLZ4, CompressionZstd} {
		z, _ := Compress(nil, codec, bytes.Repeat([]byte("x"), 10_000), false)
		for i := 4; i < len(z); i += 5 {
			z[i] ^= 0x5a
		}
		if _, err := Decompress(nil, codec, z); err == nil {
			t.Errorf("codec %d: damaged data inflated without error", codec)
		}
	}
}

func TestZeroBombsStopAtTheLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("inflates 256 MiB")
	}
	zeros := make([]byte, MaxInflated+1)
	for _, codec := range []int8{CompressionGzip, CompressionLZ4, CompressionZstd} {
		z, err := Compress(nil, codec, zeros, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decompress(nil, codec, z); err == nil {
			t.Errorf("codec %d: %d bytes inflated past the limit", codec, len(zeros))
		}
	}
}
