package metadata

import (
	"fmt"
	"math"

	"github.com/twmb/franz-go/pkg/kbin"
)

// Record is one metadata record. AppendTo and ReadFrom handle the fields only;
// Encode and Decode add the frame (frame version, type, version).
type Record interface {
	Type() int16
	Version() int16
	AppendTo(dst []byte) []byte
	ReadFrom(b []byte, version int16) error
}

// Record types: Kafka's api keys for metadata records, so a Kafka tool reading
// our log sees the records it expects.
const (
	TypeRegisterBroker           int16 = 0
	TypeUnregisterBroker         int16 = 1
	TypeTopic                    int16 = 2
	TypePartition                int16 = 3
	TypeConfig                   int16 = 4
	TypePartitionChange          int16 = 5
	TypeFenceBroker              int16 = 7
	TypeUnfenceBroker            int16 = 8
	TypeRemoveTopic              int16 = 9
	TypeFeatureLevel             int16 = 12
	TypeProducerIds              int16 = 15
	TypeBrokerRegistrationChange int16 = 17
	TypeNoOp                     int16 = 20
)

// frameVersion is the only frame version Kafka has ever accepted in KRaft
// logs (0 was the 2.8 preview).
const frameVersion = 1

// NewRecord returns an empty record of type t, or nil if this package does
// not implement t.
func NewRecord(t int16) Record {
	switch t {
	case TypeRegisterBroker:
		return new(RegisterBrokerRecord)
	case TypeUnregisterBroker:
		return new(UnregisterBrokerRecord)
	case TypeTopic:
		return new(TopicRecord)
	case TypePartition:
		return new(PartitionRecord)
	case TypeConfig:
		return new(ConfigRecord)
	case TypePartitionChange:
		return NewPartitionChangeRecord([16]byte{}, 0)
	case TypeFenceBroker:
		return new(FenceBrokerRecord)
	case TypeUnfenceBroker:
		return new(UnfenceBrokerRecord)
	case TypeRemoveTopic:
		return new(RemoveTopicRecord)
	case TypeFeatureLevel:
		return new(FeatureLevelRecord)
	case TypeProducerIds:
		return new(ProducerIdsRecord)
	case TypeBrokerRegistrationChange:
		return new(BrokerRegistrationChangeRecord)
	case TypeNoOp:
		return new(NoOpRecord)
	case TypeUserScramCredential:
		return new(UserScramCredentialRecord)
	case TypeRemoveUserScramCredential:
		return new(RemoveUserScramCredentialRecord)
	case TypeDelegationToken:
		return new(DelegationTokenRecord)
	case TypeRemoveDelegationToken:
		return new(RemoveDelegationTokenRecord)
	case TypeAccessControlEntry:
		return new(AccessControlEntryRecord)
	case TypeRemoveAccessControlEntry:
		return new(RemoveAccessControlEntryRecord)
	case TypeClientQuota:
		return new(ClientQuotaRecord)
	}
	return nil
}

// TypeName names a record type as Kafka does, including the types this
// package does not implement, so an error about an unexpected record says
// which one it met.
func TypeName(t int16) string {
	names := [...]string{
		0: "RegisterBrokerRecord", 1: "UnregisterBrokerRecord", 2: "TopicRecord",
		3: "PartitionRecord", 4: "ConfigRecord", 5: "PartitionChangeRecord",
		7: "FenceBrokerRecord", 8: "UnfenceBrokerRecord",
		9: "RemoveTopicRecord", 10: "DelegationTokenRecord", 11: "UserScramCredentialRecord",
		12: "FeatureLevelRecord", 14: "ClientQuotaRecord",
		15: "ProducerIdsRecord", 17: "BrokerRegistrationChangeRecord",
		18: "AccessControlEntryRecord", 19: "RemoveAccessControlEntryRecord", 20: "NoOpRecord",
		21: "ZkMigrationStateRecord", 22: "RemoveUserScramCredentialRecord",
		23: "BeginTransactionRecord", 24: "EndTransactionRecord", 25: "AbortTransactionRecord",
		26: "RemoveDelegationTokenRecord", 27: "RegisterControllerRecord",
	}
	if t >= 0 && int(t) < len(names) && names[t] != "" {
		return names[t]
	}
	return fmt.Sprintf("record type %d", t)
}

// Encode appends r with its frame: the value of one Kafka record in the
// __cluster_metadata log.
func Encode(dst []byte, r Record) []byte {
	dst = kbin.AppendUvarint(dst, frameVersion)
	dst = kbin.AppendUvarint(dst, uint32(r.Type()))
	dst = kbin.AppendUvarint(dst, uint32(r.Version()))
	return r.AppendTo(dst)
}

// Decode reads one framed record. The record does not alias b.
func Decode(b []byte) (Record, error) {
	r := kbin.Reader{Src: b}
	frame, typ, ver := r.Uvarint(), r.Uvarint(), r.Uvarint()
	if err := r.Complete(); err != nil {
		return nil, fmt.Errorf("decode metadata record frame: %w", err)
	}
	if frame != frameVersion {
		return nil, fmt.Errorf("decode metadata record: unknown frame version %d", frame)
	}
	if typ > math.MaxInt16 || ver > math.MaxInt16 {
		return nil, fmt.Errorf("decode metadata record: type %d version %d out of range", typ, ver)
	}
	rec := NewRecord(int16(typ))
	if rec == nil {
		return nil, fmt.Errorf("decode metadata record: unsupported type %d (%s)", typ, TypeName(int16(typ)))
	}
	if err := rec.ReadFrom(r.Src, int16(ver)); err != nil {
		return nil, fmt.Errorf("decode %s v%d: %w", TypeName(int16(typ)), ver, err)
	}
	return rec, nil
}
