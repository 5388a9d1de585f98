package broker

import (
	"errors"
	"io/fs"
	"os"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/sharegroup"
)

// The share coordinator's state APIs (InitializeShareGroupState,
// ReadShareGroupState, WriteShareGroupState, DeleteShareGroupState,
// ReadShareGroupStateSummary). Spool keeps a share-partition's state on
// the leader of its partition, so that leader is the share coordinator
// of the key group:topicId:partition and serves these for it; another
// broker answers NOT_COORDINATOR. A share-partition never started has no
// state: reads answer UNKNOWN_TOPIC_OR_PARTITION.

// stateTarget finds the partition a state API names, led here.
func (b *Broker) stateTarget(topicID [16]byte, id int32) (*partition, int16) {
	t := b.Image().Topics.ByID(topicID)
	if t == nil || t.Partition(id) == nil {
		return nil, kerr.UnknownTopicOrPartition.Code
	}
	p, code := b.leaderPartition(t, id, noLeaderEpoch)
	if code != 0 {
		return nil, kerr.NotCoordinator.Code
	}
	return p, 0
}

// existingPart is group's share-partition on p if it has state.
func (m *shareManager) existingPart(group string, p *partition) (*sharePart, int16) {
	m.mu.Lock()
	sp := m.parts[shareKey{group, p.topicID, p.id}]
	m.mu.Unlock()
	if sp == nil || sp.p != p {
		if _, err := os.Stat(shareStatePath(p, group)); errors.Is(err, fs.ErrNotExist) {
			return nil, kerr.UnknownTopicOrPartition.Code
		} else if err != nil {
			return nil, kerr.KafkaStorageError.Code
		}
	}
	sp, err := m.part(group, p)
	if err != nil {
		return nil, kerr.KafkaStorageError.Code
	}
	return sp, 0
}

// stateCode maps the state machine's refusals to Kafka's codes.
func stateCode(err error) int16 {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, sharegroup.ErrFencedStateEpoch):
		return kerr.FencedStateEpoch.Code
	case errors.Is(err, sharegroup.ErrInvalidRequest):
		return kerr.InvalidRequest.Code
	}
	return kerr.KafkaStorageError.Code
}

// initializeState starts group's share-partition on p at start under
// epoch, replacing what it had unless that has a later epoch.
func (m *shareManager) initializeState(group string, p *partition, epoch int32, start int64) int16 {
	sp, err := m.part(group, p)
	if err != nil {
		return kerr.KafkaStorageError.Code
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if epoch < sp.sp.StateEpoch() {
		return kerr.FencedStateEpoch.Code
	}
	sp.sp.Reset(start)
	sp.sp.SetEpoch(epoch)
	return stateCode(sp.persist())
}

// writeState merges written state into group's share-partition on p.
func (m *shareManager) writeState(group string, p *partition, w kmsg.WriteShareGroupStateRequestTopicPartition) int16 {
	sp, code := m.existingPart(group, p)
	if code != 0 {
		return code
	}
	batches := make([]sharegroup.StateBatch, 0, len(w.StateBatches))
	for _, b := range w.StateBatches {
		batches = append(batches, sharegroup.StateBatch{First: b.FirstOffset, Last: b.LastOffset, State: sharegroup.RecordState(b.DeliveryState), DeliveryCount: b.DeliveryCount})
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if err := sp.sp.Apply(w.StateEpoch, w.StartOffset, batches); err != nil {
		return stateCode(err)
	}
	return stateCode(sp.persist())
}

// readState is group's share-partition state on p.
func (m *shareManager) readState(group string, p *partition) (sharegroup.State, int16) {
	sp, code := m.existingPart(group, p)
	if code != 0 {
		return sharegroup.State{}, code
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.sp.State(), 0
}
