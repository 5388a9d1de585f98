package metadata

import (
	"errors"
	"fmt"
)

// Delta collects the changes of a run of records on top of a base image and
// turns them into the next image. The base is never modified.
//
// Replay keeps references to the slices and strings of the records it is
// given: do not modify a record after replaying it. After Apply the delta
// refuses further records, because the new image shares its maps.
type Delta struct {
	base      *Image
	offset    int64
	epoch     int32
	offsetSet bool
	features  featuresDelta
	brokers   brokersDelta
	topics    topicsDelta
	configs   configsDelta
	scram     scramDelta
	tokens    tokenDelta
	acls      aclDelta
	quotas    quotaDelta
	nextPID   int64
	pidSet    bool
	applied   bool
}

// NewDelta starts a delta on base.
func NewDelta(base *Image) *Delta {
	return &Delta{
		base:     base,
		features: featuresDelta{base: base.Features},
		brokers:  brokersDelta{base: base.Brokers},
		topics:   newTopicsDelta(base.Topics),
		configs:  configsDelta{base: base.Configs},
		scram:    scramDelta{base: base.ScramCredentials},
		tokens:   tokenDelta{base: base.Tokens},
		acls:     aclDelta{base: base.ACLs},
		quotas:   quotaDelta{base: base.Quotas},
	}
}

// SetOffset records the offset (raft index) and epoch (raft term) of the last
// batch replayed; the new image carries them.
func (d *Delta) SetOffset(offset int64, epoch int32) {
	d.offset, d.epoch, d.offsetSet = offset, epoch, true
}

// Replay applies one record. A record that fails leaves the delta unchanged:
// each one is checked in full before anything changes, so the caller may
// report the error and carry on or give up without a half-applied record.
func (d *Delta) Replay(r Record) error {
	if d.applied {
		return errors.New("replay into a delta that was already applied")
	}
	if err := d.replay(r); err != nil {
		return fmt.Errorf("replay %s: %w", TypeName(r.Type()), err)
	}
	return nil
}

func (d *Delta) replay(r Record) error {
	switch r := r.(type) {
	case *FeatureLevelRecord:
		d.features.set(r.Name, r.FeatureLevel)
	case *RegisterBrokerRecord:
		d.brokers.register(r)
	case *UnregisterBrokerRecord:
		return d.brokers.unregister(r.BrokerID, r.BrokerEpoch)
	case *FenceBrokerRecord:
		return d.brokers.change(r.ID, r.Epoch, FenceChangeFence, 0, nil)
	case *UnfenceBrokerRecord:
		return d.brokers.change(r.ID, r.Epoch, FenceChangeUnfence, 0, nil)
	case *BrokerRegistrationChangeRecord:
		return d.brokers.change(r.BrokerID, r.BrokerEpoch, r.Fenced, r.InControlledShutdown, r.LogDirs)
	case *TopicRecord:
		return d.topics.create(r.Name, r.TopicID)
	case *PartitionRecord:
		return d.topics.setPartition(r)
	case *PartitionChangeRecord:
		return d.topics.changePartition(r)
	case *RemoveTopicRecord:
		name, err := d.topics.remove(r.TopicID)
		if err != nil {
			return err
		}
		d.configs.remove(ConfigResource{ConfigResourceTopic, name})
	case *ConfigRecord:
		// Not checked against topics or brokers: a broker config may
		// precede the broker's registration, and the controller validates
		// topic configs before writing them.
		d.configs.set(ConfigResource{r.ResourceType, r.ResourceName}, r.Name, r.Value)
	case *ProducerIdsRecord:
		d.nextPID, d.pidSet = r.NextProducerID, true
	case *UserScramCredentialRecord:
		return d.scram.set(r)
	case *RemoveUserScramCredentialRecord:
		return d.scram.remove(r)
	case *DelegationTokenRecord:
		return d.tokens.set(r)
	case *RemoveDelegationTokenRecord:
		return d.tokens.remove(r)
	case *AccessControlEntryRecord:
		return d.acls.add(r)
	case *RemoveAccessControlEntryRecord:
		return d.acls.remove(r)
	case *ClientQuotaRecord:
		return d.quotas.set(r)
	case *NoOpRecord:
	default:
		return fmt.Errorf("no replay for %T", r)
	}
	return nil
}

// Apply returns the new image. Everything the delta did not touch is shared
// with the base: brokers, topics and partitions by pointer, and the topic
// index shard by shard.
func (d *Delta) Apply() *Image {
	d.applied = true
	img := &Image{
		Offset:           d.base.Offset,
		Epoch:            d.base.Epoch,
		Features:         d.features.current(),
		Brokers:          d.brokers.current(),
		Topics:           d.base.Topics.withChanges(d.topics.changed, d.topics.removed),
		Configs:          d.configs.current(),
		NextProducerID:   d.base.NextProducerID,
		ScramCredentials: d.scram.current(),
		Tokens:           d.tokens.current(),
		ACLs:             d.acls.current(),
		Quotas:           d.quotas.current(),
	}
	if d.offsetSet {
		img.Offset, img.Epoch = d.offset, d.epoch
	}
	if d.pidSet {
		img.NextProducerID = d.nextPID
	}
	return img
}
