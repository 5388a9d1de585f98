package record

import (
	"encoding/binary"
	"errors"
)

// errLZ4Frame says lz4Bound could not read the frames; the reader then
// decides whether the data is valid.
var errLZ4Frame = errors.New("lz4 frame not understood")

// lz4Bound is the most the lz4 frames in src inflate to, read from their
// headers: a block stored uncompressed holds its size, a compressed one at
// most the frame's block maximum (64 KiB to 4 MiB). Writers fill every
// block but the last, so the bound is within one block of the truth.
func lz4Bound(src []byte) (int64, error) {
	var bound int64
	for len(src) > 0 {
		if len(src) < 8 {
			return 0, errLZ4Frame
		}
		magic := binary.LittleEndian.Uint32(src)
		if magic&0xfffffff0 == 0x184d2a50 { // skippable frame
			n := binary.LittleEndian.Uint32(src[4:])
			if uint64(n) > uint64(len(src)-8) {
				return 0, errLZ4Frame
			}
			src = src[8+n:]
			continue
		}
		if magic != 0x184d2204 {
			return 0, errLZ4Frame
		}
		flg, bd := src[4], src[5]
		if flg>>6 != 1 || bd>>4&7 < 4 {
			return 0, errLZ4Frame
		}
		blockMax := int64(64<<10) << (2 * (bd>>4&7 - 4))
		at := 7 // magic, FLG, BD, header checksum
		if flg&0x08 != 0 {
			at += 8 // content size
		}
		if flg&0x01 != 0 {
			at += 4 // dictionary id
		}
		var err error
		if src, err = lz4Blocks(src, at, flg&0x10 != 0, blockMax, &bound); err != nil {
			return 0, err
		}
		if flg&0x04 != 0 { // content checksum
			if len(src) < 4 {
				return 0, errLZ4Frame
			}
			src = src[4:]
		}
	}
	return bound, nil
}

// lz4Blocks walks one frame's blocks from at, adding what they inflate to
// to bound, and returns what follows the end mark.
func lz4Blocks(src []byte, at int, sums bool, blockMax int64, bound *int64) ([]byte, error) {
	for {
		if len(src)-at < 4 {
			return nil, errLZ4Frame
		}
		h := binary.LittleEndian.Uint32(src[at:])
		at += 4
		if h == 0 { // end mark
			return src[at:], nil
		}
		size := int(h & 0x7fffffff)
		if h&0x80000000 != 0 {
			*bound += int64(size)
		} else {
			*bound += blockMax
		}
		if sums {
			size += 4
		}
		if size > len(src)-at {
			return nil, errLZ4Frame
		}
		at += size
	}
}
