package broker

import (
	"encoding/binary"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"

	"spool/controller/metadata"
	"spool/storage"
)

// Isolation levels of Fetch and ListOffsets.
const (
	readUncommitted int8 = 0
	readCommitted   int8 = 1
)

// noLeaderEpoch is what a client sends when it does not check the leader
// epoch, and what responses carry when the epoch is unknown.
const noLeaderEpoch = -1

// leaderPartition finds the hosted partition id of t for a request that
// only the leader may serve, checking the leader epoch the client knows the
// way Kafka does: the epoch first, then leadership. The error code is 0 when
// the partition may be served.
func (b *Broker) leaderPartition(t *metadata.Topic, id int32, clientEpoch int32) (*partition, int16) {
	if t == nil || t.Partition(id) == nil {
		return nil, kerr.UnknownTopicOrPartition.Code
	}
	p := b.replicas.get(tp{t.Name, id})
	if p == nil {
		if b.replicas.offline(tp{t.Name, id}) {
			return nil, kerr.KafkaStorageError.Code
		}
		return nil, kerr.NotLeaderForPartition.Code
	}
	if p.log.Failure() != nil {
		// Its log dir is offline (Kafka's offline partition): clients
		// refresh metadata and find the leader the controller moved to.
		return nil, kerr.KafkaStorageError.Code
	}
	isLeader, epoch := p.leadership()
	if code := checkLeaderEpoch(clientEpoch, epoch); code != 0 {
		return nil, code
	}
	if !isLeader {
		return nil, kerr.NotLeaderForPartition.Code
	}
	return p, 0
}

// checkLeaderEpoch compares the epoch a client knows with the current one.
func checkLeaderEpoch(client, current int32) int16 {
	switch {
	case client == noLeaderEpoch:
		return 0
	case client < current:
		return kerr.FencedLeaderEpoch.Code
	case client > current:
		return kerr.UnknownLeaderEpoch.Code
	}
	return 0
}

// fetchableOffset bounds what a consumer with the isolation level may read.
func (p *partition) fetchableOffset(isolation int8) int64 {
	if isolation == readCommitted {
		return p.lastStableOffset()
	}
	return p.HighWatermark()
}

// epochAt returns the leader epoch of the batch holding offset, read from
// its header, or noLeaderEpoch if no batch below maxOffset holds it.
func (p *partition) epochAt(offset, maxOffset int64) int32 {
	sl, err := p.log.Read(offset, 1, maxOffset, true)
	if err != nil || sl.Empty() {
		return noLeaderEpoch
	}
	defer sl.Release()
	var hdr [16]byte
	if _, err := sl.File().ReadAt(hdr[:], sl.Pos()); err != nil {
		return noLeaderEpoch
	}
	return int32(binary.BigEndian.Uint32(hdr[12:]))
}

// storageErrorCode maps an error from the log to a Kafka error code.
func storageErrorCode(err error) int16 {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, storage.ErrOffsetOutOfRange):
		return kerr.OffsetOutOfRange.Code
	case errors.Is(err, storage.ErrClosed):
		// The partition was deleted or moved while the request ran.
		return kerr.NotLeaderForPartition.Code
	}
	return kerr.KafkaStorageError.Code
}
