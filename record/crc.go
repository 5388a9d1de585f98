package record

import (
	"encoding/binary"
	"hash/crc32"
)

// castagnoli is the one CRC-32C table of the whole program, computed once
// and only read afterwards.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum is the CRC-32C of b, the checksum Kafka uses for batches and
// Spool for its own files.
func Checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// UpdateChecksum continues a CRC-32C over more bytes, for data read in
// pieces.
func UpdateChecksum(crc uint32, b []byte) uint32 { return crc32.Update(crc, castagnoli, b) }

// BatchChecksum is the CRC a whole batch should carry: over everything
// from the attributes on.
func BatchChecksum(batch []byte) uint32 { return Checksum(batch[crcStart:]) }

// HeaderChecksum starts the CRC of a batch from its header alone; continue
// it over the records with UpdateChecksum.
func HeaderChecksum(hdr []byte) uint32 { return Checksum(hdr[crcStart:HeaderLen]) }

// SetCRC recomputes a whole batch's CRC after a change to a field it
// covers.
func SetCRC(batch []byte) {
	binary.BigEndian.PutUint32(batch[crcPos:], BatchChecksum(batch))
}
