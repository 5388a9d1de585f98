package txn

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Record versions written to __transaction_state: key v0 (the only one),
// value v0, which Kafka writes until transaction.version 1 is finalized.
const (
	keyVersion   = 0
	valueVersion = 0
)

// Key is the record key of a transactional id.
func Key(id string) []byte {
	k := kmsg.NewTxnMetadataKey()
	k.Version, k.TransactionalID = keyVersion, id
	return k.AppendTo(nil)
}

// Value is the record value of a transition; a Dead transition is a
// tombstone (nil).
func Value(tr *Transit) []byte {
	if tr.State == Dead {
		return nil
	}
	v := kmsg.NewTxnMetadataValue()
	v.Version = valueVersion
	v.ProducerID, v.ProducerEpoch = tr.ProducerID, tr.ProducerEpoch
	v.TimeoutMillis = tr.TimeoutMs
	v.State = kmsg.TransactionState(tr.State)
	v.LastUpdateTimestamp, v.StartTimestamp = tr.LastUpdateMs, tr.StartMs
	if tr.State != Empty {
		// An empty transaction's partitions are a null array; any other
		// state's are a (possibly empty) list, grouped by topic.
		v.Topics = []kmsg.TxnMetadataValueTopic{}
		for _, p := range tr.Partitions {
			if n := len(v.Topics); n == 0 || v.Topics[n-1].Topic != p.Topic {
				t := kmsg.NewTxnMetadataValueTopic()
				t.Topic = p.Topic
				v.Topics = append(v.Topics, t)
			}
			last := &v.Topics[len(v.Topics)-1]
			last.Partitions = append(last.Partitions, p.Partition)
		}
	}
	return v.AppendTo(nil)
}

// ErrUnknownKey marks a record whose key version this package does not
// know; Kafka skips such records when loading.
var ErrUnknownKey = errors.New("unknown __transaction_state key version")

// DecodeKey reads a record key.
func DecodeKey(b []byte) (string, error) {
	var k kmsg.TxnMetadataKey
	if err := k.ReadFrom(b); err != nil {
		return "", fmt.Errorf("decode transaction key: %w", err)
	}
	if k.Version != keyVersion {
		return "", fmt.Errorf("%w %d", ErrUnknownKey, k.Version)
	}
	return k.TransactionalID, nil
}

// DecodeValue reads the value of id's record into its state; nil for a
// tombstone. Values v0 and v1 (Kafka 4's flexible form) are read.
func DecodeValue(id string, b []byte) (*Txn, error) {
	if b == nil {
		return nil, nil
	}
	var v kmsg.TxnMetadataValue
	if err := v.ReadFrom(b); err != nil {
		return nil, fmt.Errorf("decode transaction value of %q: %w", id, err)
	}
	if v.Version < 0 || v.Version > 1 {
		return nil, fmt.Errorf("decode transaction value of %q: unknown version %d", id, v.Version)
	}
	st := State(v.State)
	if st < Empty || st > PrepareEpochFence {
		return nil, fmt.Errorf("decode transaction value of %q: unknown state %d", id, v.State)
	}
	t := &Txn{
		ID: id, ProducerID: v.ProducerID, PrevProducerID: v.PreviousProducerID,
		ProducerEpoch: v.ProducerEpoch, LastProducerEpoch: NoEpoch,
		TimeoutMs: v.TimeoutMillis, State: st,
		StartMs: v.StartTimestamp, LastUpdateMs: v.LastUpdateTimestamp,
		partitions: map[Partition]struct{}{},
	}
	if st != Empty {
		for _, tp := range v.Topics {
			for _, p := range tp.Partitions {
				t.partitions[Partition{tp.Topic, p}] = struct{}{}
			}
		}
	}
	return t, nil
}
