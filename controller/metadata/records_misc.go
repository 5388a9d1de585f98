package metadata

import "github.com/twmb/franz-go/pkg/kbin"

// ConfigRecord (type 4, version 0) sets one config of a resource, or deletes
// it when Value is nil.
type ConfigRecord struct {
	ResourceType int8 // ConfigResourceTopic, ConfigResourceBroker, ...
	ResourceName string
	Name         string
	Value        *string
	UnknownTags  []Tag
}

func (*ConfigRecord) Type() int16    { return TypeConfig }
func (*ConfigRecord) Version() int16 { return 0 }

func (r *ConfigRecord) AppendTo(dst []byte) []byte {
	dst = kbin.AppendInt8(dst, r.ResourceType)
	dst = appendStr(dst, r.ResourceName)
	dst = appendStr(dst, r.Name)
	dst = appendNullableStr(dst, r.Value)
	return appendTags(dst, nil, r.UnknownTags)
}

func (r *ConfigRecord) ReadFrom(b []byte, v int16) error {
	if err := checkVersion(v, 0); err != nil {
		return err
	}
	rd := newReader(b)
	r.ResourceType = rd.Int8()
	r.ResourceName = rd.str()
	r.Name = rd.str()
	r.Value = rd.nullableStr()
	r.UnknownTags = rd.tags(nil)
	return rd.finish()
}

// FeatureLevelRecord (type 12, version 0) finalizes a feature's level; level
// 0 removes the feature. Kafka pins this record at version 0 for good: a log
// starts with one naming metadata.version, which says how to read the rest.
type FeatureLevelRecord struct {
	Name         string
	FeatureLevel int16
	UnknownTags  []Tag
}

func (*FeatureLevelRecord) Type() int16    { return TypeFeatureLevel }
func (*FeatureLevelRecord) Version() int16 { return 0 }

func (r *FeatureLevelRecord) AppendTo(dst []byte) []byte {
	dst = appendStr(dst, r.Name)
	dst = kbin.AppendInt16(dst, r.FeatureLevel)
	return appendTags(dst, nil, r.UnknownTags)
}

func (r *FeatureLevelRecord) ReadFrom(b []byte, v int16) error {
	if err := checkVersion(v, 0); err != nil {
		return err
	}
	rd := newReader(b)
	r.Name = rd.str()
	r.FeatureLevel = rd.Int16()
	r.UnknownTags = rd.tags(nil)
	return rd.finish()
}

// ProducerIdsRecord (type 15, version 0) records that a block of producer ids
// was handed out: NextProducerID is the first id of the next block.
type ProducerIdsRecord struct {
	BrokerID       int32
	BrokerEpoch    int64
	NextProducerID int64
	UnknownTags    []Tag
}

func (*ProducerIdsRecord) Type() int16    { return TypeProducerIds }
func (*ProducerIdsRecord) Version() int16 { return 0 }

func (r *ProducerIdsRecord) AppendTo(dst []byte) []byte {
	dst = kbin.AppendInt32(dst, r.BrokerID)
	dst = kbin.AppendInt64(dst, r.BrokerEpoch)
	dst = kbin.AppendInt64(dst, r.NextProducerID)
	return appendTags(dst, nil, r.UnknownTags)
}

func (r *ProducerIdsRecord) ReadFrom(b []byte, v int16) error {
	if err := checkVersion(v, 0); err != nil {
		return err
	}
	rd := newReader(b)
	r.BrokerID = rd.Int32()
	r.BrokerEpoch = rd.Int64()
	r.NextProducerID = rd.Int64()
	r.UnknownTags = rd.tags(nil)
	return rd.finish()
}

// NoOpRecord (type 20, version 0) changes nothing; the active controller
// writes it periodically so followers see the log advance.
type NoOpRecord struct {
	UnknownTags []Tag
}

func (*NoOpRecord) Type() int16    { return TypeNoOp }
func (*NoOpRecord) Version() int16 { return 0 }

func (r *NoOpRecord) AppendTo(dst []byte) []byte { return appendTags(dst, nil, r.UnknownTags) }

func (r *NoOpRecord) ReadFrom(b []byte, v int16) error {
	if err := checkVersion(v, 0); err != nil {
		return err
	}
	rd := newReader(b)
	r.UnknownTags = rd.tags(nil)
	return rd.finish()
}
