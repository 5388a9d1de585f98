package broker

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"go.uber.org/zap"

	"spool/broker/sharegroup"
	"spool/record"
	"spool/storage"
)

// sharePart is one share-partition led here: the state machine, the
// partition it reads, and the file its state is kept in.
type sharePart struct {
	key shareKey
	p   *partition

	mu sync.Mutex
	sp *sharegroup.Partition
}

// shareStatePath is the share-partition's state file, in the partition's
// own directory so it moves, and is deleted, with the partition.
func shareStatePath(p *partition, group string) string {
	sum := sha256.Sum256([]byte(group))
	return filepath.Join(p.log.Dir(), "share-"+hex.EncodeToString(sum[:16])+".state")
}

// part finds the share-partition of group on p, loading its state or
// starting it where the group's share.auto.offset.reset says.
func (m *shareManager) part(group string, p *partition) (*sharePart, error) {
	key := shareKey{group, p.topicID, p.id}
	m.mu.Lock()
	defer m.mu.Unlock()
	if sp := m.parts[key]; sp != nil && sp.p == p {
		return sp, nil
	}
	sp := &sharePart{key: key, p: p}
	st, err := readShareState(shareStatePath(p, group), group)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		start, err := m.startOffset(group, p)
		if err != nil {
			return nil, err
		}
		sp.sp = sharegroup.NewPartition(start)
		if err := sp.persist(); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		if sp.sp, err = sharegroup.Restore(st); err != nil {
			return nil, fmt.Errorf("%s: %w", shareStatePath(p, group), err)
		}
	}
	m.parts[key] = sp
	m.known[group] = struct{}{}
	return sp, nil
}

// persist writes the state; sp.mu is held (or sp is not shared yet).
func (sp *sharePart) persist() error {
	st := sp.sp.State().Encode()
	b := make([]byte, 0, 2+len(sp.key.group)+len(st))
	b = binary.BigEndian.AppendUint16(b, uint16(len(sp.key.group)))
	b = append(append(b, sp.key.group...), st...)
	if err := storage.WriteFileAtomic(shareStatePath(sp.p, sp.key.group), b); err != nil {
		return fmt.Errorf("write share state of %s: %w", sp.key.group, err)
	}
	return nil
}

func readShareState(path, group string) (sharegroup.State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return sharegroup.State{}, err
	}
	if len(b) < 2 || len(b) < 2+int(binary.BigEndian.Uint16(b)) {
		return sharegroup.State{}, fmt.Errorf("%s: %w", path, sharegroup.ErrCorruptState)
	}
	n := int(binary.BigEndian.Uint16(b))
	if string(b[2:2+n]) != group {
		return sharegroup.State{}, fmt.Errorf("%s holds group %q, not %q", path, b[2:2+n], group)
	}
	return sharegroup.DecodeState(b[2+n:])
}

// acquire reads records past what the group has consumed and hands member
// what it may take of them: the batches read and the acquired ranges.
func (sp *sharePart) acquire(m *shareManager, member string, maxBytes, maxRecords int, now time.Time) ([]byte, []sharegroup.Range, int16) {
	cfg := m.groupConfig(sp.key.group)
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.sp.SkipTo(sp.p.log.LogStartOffset())
	from, ok := sp.sp.NextAcquirable(cfg.MaxRecordLocks)
	hw := sp.p.HighWatermark()
	if !ok || from >= hw || maxRecords <= 0 {
		return nil, nil, 0
	}
	sl, err := sp.p.log.Read(from, maxBytes, hw, true)
	if err != nil {
		return nil, nil, storageErrorCode(err)
	}
	buf, err := sl.ReadAll(nil)
	sl.Release()
	if err != nil {
		return nil, nil, storageErrorCode(err)
	}
	end := batchesEnd(buf)
	if end <= from {
		return nil, nil, 0
	}
	ranges := sp.sp.Acquire(member, min(end, hw), maxRecords, cfg.MaxRecordLocks, now, cfg.LockDuration)
	if len(ranges) == 0 {
		return nil, nil, 0
	}
	for _, r := range ranges {
		m.counts.deliveries.Add(uint64(r.Last - r.First + 1))
	}
	return trimBatches(buf, ranges[len(ranges)-1].Last), ranges, 0
}

// batchesEnd is the offset after the last whole batch in buf.
func batchesEnd(buf []byte) int64 {
	end := int64(-1)
	for len(buf) >= record.HeaderLen {
		h, err := record.ParseHeader(buf)
		if err != nil || h.TotalSize() > len(buf) {
			break
		}
		end = h.NextOffset()
		buf = buf[h.TotalSize():]
	}
	return end
}

// trimBatches drops the batches that start after last.
func trimBatches(buf []byte, last int64) []byte {
	n := 0
	for n+record.HeaderLen <= len(buf) {
		h, err := record.ParseHeader(buf[n:])
		if err != nil || h.BaseOffset > last || n+h.TotalSize() > len(buf) {
			break
		}
		n += h.TotalSize()
	}
	return buf[:n]
}

// shareAck is one acknowledgement batch as both APIs carry it.
type shareAck struct {
	first, last int64
	types       []sharegroup.AckType
}

// acknowledge applies member's acknowledgement batches and makes them
// durable before the caller answers; the first failure is the answer.
func (sp *sharePart) acknowledge(m *shareManager, member string, acks []shareAck, now time.Time) int16 {
	cfg := m.groupConfig(sp.key.group)
	sp.mu.Lock()
	defer sp.mu.Unlock()
	var code int16
	changed := false
	for _, a := range acks {
		switch err := sp.sp.Acknowledge(member, a.first, a.last, a.types, cfg.DeliveryLimit, now, cfg.LockDuration); {
		case errors.Is(err, sharegroup.ErrInvalidRequest):
			code = firstCode(code, kerr.InvalidRequest.Code)
		case err != nil:
			code = firstCode(code, kerr.InvalidRecordState.Code)
		default:
			changed = true
			m.countAcks(a)
		}
	}
	if changed {
		if err := sp.persist(); err != nil {
			m.log.Warn("share state not written", zap.Error(err))
			return kerr.KafkaStorageError.Code
		}
		sp.p.notifyWaiters()
	}
	return code
}

func firstCode(have, next int16) int16 {
	if have != 0 {
		return have
	}
	return next
}

func (sp *sharePart) releaseMember(m *shareManager, member string) {
	limit := m.groupConfig(sp.key.group).DeliveryLimit
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.sp.ReleaseMember(member, limit) {
		sp.persistOrLog(m)
	}
}

func (sp *sharePart) expireLocks(m *shareManager, now time.Time) {
	sp.mu.Lock()
	d, ok := sp.sp.NextDeadline()
	sp.mu.Unlock()
	if !ok || now.Before(d) {
		return
	}
	limit := m.groupConfig(sp.key.group).DeliveryLimit
	sp.mu.Lock()
	defer sp.mu.Unlock()
	before := sp.sp.Acquired()
	if sp.sp.ExpireLocks(now, limit) {
		m.counts.expired.Add(uint64(before - sp.sp.Acquired()))
		sp.persistOrLog(m)
	}
}

// persistOrLog writes a release: one that is lost only means a record is
// delivered once more than its count says, never that one is skipped.
func (sp *sharePart) persistOrLog(m *shareManager) {
	if err := sp.persist(); err != nil {
		m.log.Warn("share state not written", zap.Error(err))
	}
	// Released records are there for waiting share fetches to take.
	sp.p.notifyWaiters()
}

// peek reports group's share-partition on p, from memory or its state
// file, without starting one; ok is false for a partition the group
// never fetched.
func (m *shareManager) peek(group string, p *partition) (start, lag int64, ok bool, err error) {
	m.mu.Lock()
	sp := m.parts[shareKey{group, p.topicID, p.id}]
	m.mu.Unlock()
	if sp != nil && sp.p == p {
		sp.mu.Lock()
		defer sp.mu.Unlock()
		return sp.sp.Start(), sp.sp.Lag(p.HighWatermark()), true, nil
	}
	st, err := readShareState(shareStatePath(p, group), group)
	if errors.Is(err, fs.ErrNotExist) {
		return -1, -1, false, nil
	}
	if err != nil {
		return -1, -1, false, err
	}
	q, err := sharegroup.Restore(st)
	if err != nil {
		return -1, -1, false, err
	}
	return q.Start(), q.Lag(p.HighWatermark()), true, nil
}
