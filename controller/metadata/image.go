package metadata

import (
	"bytes"
	"cmp"
	"maps"
	"slices"
)

// Image is the metadata state after applying the log up to Offset. It is
// immutable: it is published through an atomic pointer and read without
// locks, and a Delta builds the next image beside it, sharing whatever did not
// change. Maps and slices reachable from an Image must not be modified.
type Image struct {
	Offset         int64 // offset (raft index) of the last applied batch
	Epoch          int32 // raft term of that batch
	Features       map[string]int16
	Brokers        map[int32]*Broker
	Topics         *Topics
	Configs        map[ConfigResource]map[string]string // a nil value deletes
	NextProducerID int64
	// ScramCredentials are the users' SCRAM credentials.
	ScramCredentials map[ScramKey]*ScramUser
	// Tokens are the delegation tokens by id.
	Tokens map[string]*DelegationToken
	// ACLs are the access control bindings (nil: none).
	ACLs *ACLs
	// Quotas are the client quotas by entity.
	Quotas map[QuotaEntity]map[string]float64
}

// Empty returns the image before the first record: offset -1, nothing else.
func Empty() *Image {
	return &Image{
		Offset:   -1,
		Epoch:    -1,
		Features: map[string]int16{},
		Brokers:  map[int32]*Broker{},
		Topics:   &Topics{},
		Configs:  map[ConfigResource]map[string]string{},
	}
}

// MetadataVersion returns the finalized metadata.version level, 0 if unset.
func (img *Image) MetadataVersion() int16 { return img.Features[MetadataVersionFeature] }

// Records returns records that rebuild the image when replayed into
// NewDelta(Empty()): features (metadata.version first, as Kafka starts every
// log and snapshot with it), brokers, topics each followed by its partitions,
// configs, then the producer id block. The order within each group is sorted,
// so equal images give equal snapshots. Offset and Epoch are not records: the
// snapshot carries them.
func (img *Image) Records() []Record {
	recs := make([]Record, 0, len(img.Features)+len(img.Brokers)+2*img.Topics.Len()+1)
	recs = img.appendFeatureRecords(recs)
	for _, id := range sortedKeys(img.Brokers) {
		recs = append(recs, img.Brokers[id].record())
	}
	recs = img.appendTopicRecords(recs)
	recs = img.appendConfigRecords(recs)
	recs = img.appendScramRecords(recs)
	recs = img.appendTokenRecords(recs)
	recs = img.appendACLRecords(recs)
	recs = img.appendQuotaRecords(recs)
	if img.NextProducerID > 0 {
		recs = append(recs, &ProducerIdsRecord{BrokerID: -1, BrokerEpoch: -1, NextProducerID: img.NextProducerID})
	}
	return recs
}

func (img *Image) appendFeatureRecords(recs []Record) []Record {
	names := sortedKeys(img.Features)
	slices.SortStableFunc(names, func(a, b string) int {
		return cmp.Compare(btoi(b == MetadataVersionFeature), btoi(a == MetadataVersionFeature))
	})
	for _, name := range names {
		recs = append(recs, &FeatureLevelRecord{Name: name, FeatureLevel: img.Features[name]})
	}
	return recs
}

func (img *Image) appendTopicRecords(recs []Record) []Record {
	topics := make([]*Topic, 0, img.Topics.Len())
	img.Topics.Range(func(t *Topic) bool {
		topics = append(topics, t)
		return true
	})
	slices.SortFunc(topics, func(a, b *Topic) int { return cmp.Compare(a.Name, b.Name) })
	for _, t := range topics {
		recs = append(recs, &TopicRecord{Name: t.Name, TopicID: t.ID})
		for _, p := range t.Partitions {
			recs = append(recs, p.record(t.ID))
		}
	}
	return recs
}

func (img *Image) appendConfigRecords(recs []Record) []Record {
	resources := slices.SortedFunc(maps.Keys(img.Configs), func(a, b ConfigResource) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name))
	})
	for _, res := range resources {
		m := img.Configs[res]
		for _, name := range sortedKeys(m) {
			v := m[name]
			recs = append(recs, &ConfigRecord{ResourceType: res.Type, ResourceName: res.Name, Name: name, Value: &v})
		}
	}
	return recs
}

func (p *Partition) record(topicID [16]byte) *PartitionRecord {
	return &PartitionRecord{
		PartitionID:         p.ID,
		TopicID:             topicID,
		Replicas:            p.Replicas,
		ISR:                 p.ISR,
		RemovingReplicas:    p.RemovingReplicas,
		AddingReplicas:      p.AddingReplicas,
		Leader:              p.Leader,
		LeaderRecoveryState: p.LeaderRecoveryState,
		LeaderEpoch:         p.LeaderEpoch,
		PartitionEpoch:      p.PartitionEpoch,
	}
}

func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	return slices.Sorted(maps.Keys(m))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func compareIDs(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) }
