package metadata

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"spool/record"
)

// SnapshotID names a snapshot as Kafka does: EndOffset is the offset after
// the last batch it contains, Epoch the raft term of that batch.
type SnapshotID struct {
	EndOffset int64
	Epoch     int32
}

// FileName is Kafka's snapshot file name for id.
func (id SnapshotID) FileName() string {
	return fmt.Sprintf("%020d-%010d.checkpoint", id.EndOffset, id.Epoch)
}

// ParseSnapshotFileName is the inverse of FileName.
func ParseSnapshotFileName(name string) (SnapshotID, bool) {
	base, ok := strings.CutSuffix(filepath.Base(name), ".checkpoint")
	off, epoch, ok2 := strings.Cut(base, "-")
	if !ok || !ok2 {
		return SnapshotID{}, false
	}
	o, err1 := strconv.ParseInt(off, 10, 64)
	e, err2 := strconv.ParseInt(epoch, 10, 32)
	if err1 != nil || err2 != nil || o < 0 || e < 0 {
		return SnapshotID{}, false
	}
	return SnapshotID{o, int32(e)}, true
}

// LatestSnapshot returns the newest snapshot among file names.
func LatestSnapshot(names []string) (SnapshotID, bool) {
	var ids []SnapshotID
	for _, n := range names {
		if id, ok := ParseSnapshotFileName(n); ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return SnapshotID{}, false
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].EndOffset < ids[j].EndOffset })
	return ids[len(ids)-1], true
}

// snapshotBatchRecords bounds a snapshot batch, so reading a snapshot never
// needs more than one modest batch in memory.
const snapshotBatchRecords = 1000

// WriteSnapshot writes img as a snapshot: a SnapshotHeader control batch,
// the image's records in batches, the extra control records (raft's
// configuration), and a SnapshotFooter. A snapshot without its footer is
// incomplete and is refused by ReadSnapshot.
func WriteSnapshot(w io.Writer, img *Image, nowMs int64, extra []ControlRecord) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	var buf []byte
	off := int64(0)
	emit := func(b []byte) error {
		off++
		_, err := bw.Write(b)
		return err
	}
	if err := emit(AppendControlBatch(buf[:0], off, img.Epoch, nowMs, ControlSnapshotHeader, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0})); err != nil {
		return err
	}
	recs := img.Records()
	for len(recs) > 0 {
		n := min(len(recs), snapshotBatchRecords)
		buf = AppendRecordBatch(buf[:0], off, img.Epoch, nowMs, recs[:n])
		if err := emit(buf); err != nil {
			return err
		}
		recs = recs[n:]
	}
	for _, c := range extra {
		if err := emit(AppendControlBatch(buf[:0], off, img.Epoch, nowMs, c.Type, c.Value)); err != nil {
			return err
		}
	}
	if err := emit(AppendControlBatch(buf[:0], off, img.Epoch, nowMs, ControlSnapshotFooter, []byte{0, 0})); err != nil {
		return err
	}
	return bw.Flush()
}

// ErrIncompleteSnapshot means a snapshot ends before its footer.
var ErrIncompleteSnapshot = errors.New("snapshot has no footer")

// ReadSnapshot replays a snapshot into a new image at id and returns the
// control records other than header and footer.
func ReadSnapshot(r io.Reader, id SnapshotID) (*Image, []ControlRecord, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	delta := NewDelta(Empty())
	var extra []ControlRecord
	var buf []byte
	footer := false
	for !footer {
		var prefix [12]byte
		if _, err := io.ReadFull(br, prefix[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, nil, ErrIncompleteSnapshot
			}
			return nil, nil, err
		}
		n := int(binary.BigEndian.Uint32(prefix[8:]))
		if n < record.HeaderLen-12 || n > 64<<20 {
			return nil, nil, fmt.Errorf("snapshot batch length %d", n)
		}
		buf = append(buf[:0], prefix[:]...)
		buf = append(buf, make([]byte, n)...)
		if _, err := io.ReadFull(br, buf[12:]); err != nil {
			return nil, nil, ErrIncompleteSnapshot
		}
		_, recs, ctl, err := DecodeBatch(buf)
		if err != nil {
			return nil, nil, fmt.Errorf("snapshot %s: %w", id.FileName(), err)
		}
		if ctl != nil {
			switch ctl.Type {
			case ControlSnapshotHeader:
			case ControlSnapshotFooter:
				footer = true
			default:
				extra = append(extra, ControlRecord{Version: ctl.Version, Type: ctl.Type, Value: append([]byte(nil), ctl.Value...)})
			}
			continue
		}
		for _, rec := range recs {
			if err := delta.Replay(rec); err != nil {
				return nil, nil, fmt.Errorf("snapshot %s: %w", id.FileName(), err)
			}
		}
	}
	delta.SetOffset(id.EndOffset-1, id.Epoch)
	return delta.Apply(), extra, nil
}
