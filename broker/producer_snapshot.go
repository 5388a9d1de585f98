package broker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"spool/record"
	"spool/storage"
)

// Producer state snapshots are named, as Kafka names them, after the offset
// the state is complete up to (exclusive): <20-digit offset>.snapshot.
const snapshotSuffix = ".snapshot"

// snapshotsKept bounds the snapshot files per partition; older ones only
// matter if the log lost its tail, and then an older one is enough.
const snapshotsKept = 2

// Snapshot layout, big-endian: magic "SPPS", version u16, crc32c u32 of
// everything after it, entry count u32, then per producer: id i64, epoch
// i16, lastSeq i32, lastTimestamp i64, (version 2:) the open transaction's
// first offset i64 and the coordinator epoch i32, batch count u8 and per
// batch firstSeq i32, lastSeq i32, firstOffset i64, lastOffset i64,
// maxTimestamp i64. Version 1 files, without the transaction fields, are
// still read.
const (
	snapshotMagic      = "SPPS"
	snapshotVersion    = 2
	snapshotHeaderLen  = 4 + 2 + 4 + 4
	snapshotEntryLenV1 = 8 + 2 + 4 + 8 + 1
	snapshotEntryLen   = snapshotEntryLenV1 + 8 + 4
	snapshotBatchLen   = 4 + 4 + 8 + 8 + 8
)

func snapshotPath(dir string, offset int64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", offset, snapshotSuffix))
}

// encode serialises the state in a stable order (by producer id) so equal
// states give equal files.
func (s *producerStates) encode() []byte {
	ids := make([]int64, 0, len(s.m))
	for id := range s.m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	be := binary.BigEndian
	b := make([]byte, snapshotHeaderLen, snapshotHeaderLen+len(ids)*(snapshotEntryLen+batchesKept*snapshotBatchLen))
	copy(b, snapshotMagic)
	be.PutUint16(b[4:], snapshotVersion)
	be.PutUint32(b[10:], uint32(len(ids)))
	for _, id := range ids {
		e := s.m[id]
		b = be.AppendUint64(b, uint64(id))
		b = be.AppendUint16(b, uint16(e.epoch))
		b = be.AppendUint32(b, uint32(e.lastSeq))
		b = be.AppendUint64(b, uint64(e.lastTimestamp))
		b = be.AppendUint64(b, uint64(e.txnFirst))
		b = be.AppendUint32(b, uint32(e.coordEpoch))
		b = append(b, byte(e.n))
		for _, m := range e.batches[:e.n] {
			b = be.AppendUint32(b, uint32(m.firstSeq))
			b = be.AppendUint32(b, uint32(m.lastSeq))
			b = be.AppendUint64(b, uint64(m.firstOffset))
			b = be.AppendUint64(b, uint64(m.lastOffset))
			b = be.AppendUint64(b, uint64(m.maxTimestamp))
		}
	}
	be.PutUint32(b[6:], record.Checksum(b[10:]))
	return b
}

var errBadSnapshot = errors.New("bad producer state snapshot")

// decodeProducerStates parses a snapshot, refusing anything whose checksum,
// version or lengths do not add up.
func decodeProducerStates(b []byte) (*producerStates, error) {
	be := binary.BigEndian
	if len(b) < snapshotHeaderLen || string(b[:4]) != snapshotMagic {
		return nil, fmt.Errorf("%w: no header", errBadSnapshot)
	}
	version := be.Uint16(b[4:])
	entryLen := snapshotEntryLen
	switch version {
	case 1:
		entryLen = snapshotEntryLenV1
	case snapshotVersion:
	default:
		return nil, fmt.Errorf("%w: version %d", errBadSnapshot, version)
	}
	if got, want := record.Checksum(b[10:]), be.Uint32(b[6:]); got != want {
		return nil, fmt.Errorf("%w: crc %08x, computed %08x", errBadSnapshot, want, got)
	}
	count := be.Uint32(b[10:])
	s := newProducerStates()
	rest := b[snapshotHeaderLen:]
	for i := uint32(0); i < count; i++ {
		if len(rest) < entryLen {
			return nil, fmt.Errorf("%w: entry %d truncated", errBadSnapshot, i)
		}
		id := int64(be.Uint64(rest))
		e := newProducerEntry(int16(be.Uint16(rest[8:])))
		e.lastSeq, e.lastTimestamp = int32(be.Uint32(rest[10:])), int64(be.Uint64(rest[14:]))
		if version >= 2 {
			e.txnFirst, e.coordEpoch = int64(be.Uint64(rest[22:])), int32(be.Uint32(rest[30:]))
		}
		e.n = int(rest[entryLen-1])
		rest = rest[entryLen:]
		if e.n > batchesKept || len(rest) < e.n*snapshotBatchLen {
			return nil, fmt.Errorf("%w: entry %d has %d batches", errBadSnapshot, i, e.n)
		}
		for j := 0; j < e.n; j++ {
			e.batches[j] = batchMeta{
				firstSeq: int32(be.Uint32(rest)), lastSeq: int32(be.Uint32(rest[4:])),
				firstOffset: int64(be.Uint64(rest[8:])), lastOffset: int64(be.Uint64(rest[16:])),
				maxTimestamp: int64(be.Uint64(rest[24:])),
			}
			rest = rest[snapshotBatchLen:]
		}
		s.m[id] = e
		if e.txnFirst >= 0 {
			s.ongoing[id] = e.txnFirst
		}
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errBadSnapshot, len(rest))
	}
	return s, nil
}

// writeProducerSnapshot stores the state complete up to offset and prunes
// older snapshots. syncFile makes the file durable; nil leaves that to a
// syncfs of the log dir (a broker stopping), which is safe because a torn
// or missing snapshot fails its checksum on load and is skipped for an
// older one or a replay of the log. Only the oldest of snapshotsKept+1 is
// pruned, so the one before the new one survives to fall back on.
func writeProducerSnapshot(dir string, offset int64, s *producerStates, syncFile func(*os.File) error) error {
	if err := storage.WriteFileAtomicWith(snapshotPath(dir, offset), s.encode(), syncFile); err != nil {
		return fmt.Errorf("write producer snapshot at %d in %s: %w", offset, dir, err)
	}
	offs, err := listSnapshots(dir)
	if err != nil {
		return err
	}
	for len(offs) > snapshotsKept {
		if err := os.Remove(snapshotPath(dir, offs[0])); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("prune producer snapshot: %w", err)
		}
		offs = offs[1:]
	}
	return nil
}

// listSnapshots returns the offsets of the snapshots in dir, ascending.
func listSnapshots(dir string) ([]int64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list producer snapshots: %w", err)
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return snapshotOffsets(names), nil
}

// snapshotOffsets picks the snapshots' offsets out of a directory's names,
// ascending.
func snapshotOffsets(names []string) []int64 {
	var offs []int64
	for _, name := range names {
		stem, ok := strings.CutSuffix(name, snapshotSuffix)
		if !ok || len(stem) != 20 {
			continue
		}
		if off, err := strconv.ParseInt(stem, 10, 64); err == nil && off >= 0 {
			offs = append(offs, off)
		}
	}
	slices.Sort(offs)
	return offs
}
