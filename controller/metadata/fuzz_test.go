package metadata

import (
	"bytes"
	"testing"
)

func seedRecords() []Record {
	recs := []Record{
		registerBroker(0), registerBroker(3), partitionRecord(0), partitionRecord(2),
		partitionChange(0), partitionChange(2), registrationChange(2),
		&UnregisterBrokerRecord{BrokerID: 1}, &TopicRecord{Name: "t", TopicID: uuid(1)},
		&ConfigRecord{Name: "k", Value: strp("v")}, &FenceBrokerRecord{}, &UnfenceBrokerRecord{},
		&RemoveTopicRecord{}, &FeatureLevelRecord{Name: "f"}, &ProducerIdsRecord{}, &NoOpRecord{},
	}
	return recs
}

// FuzzDecode checks that Decode never panics and that whatever it accepts
// re-encodes to bytes it decodes to the same record.
func FuzzDecode(f *testing.F) {
	for _, r := range seedRecords() {
		f.Add(Encode(nil, r))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(b)
		if err != nil {
			return
		}
		again := Encode(nil, r)
		r2, err := Decode(again)
		if err != nil {
			t.Fatalf("re-encoded %T does not decode: %v", r, err)
		}
		if !bytes.Equal(Encode(nil, r2), again) {
			t.Fatalf("%T not stable across re-encoding", r)
		}
	})
}

// FuzzDecodeBatch checks that DecodeBatch never panics on garbage.
func FuzzDecodeBatch(f *testing.F) {
	f.Add(AppendRecordBatch(nil, 0, 1, 2, seedRecords()))
	f.Add(AppendRecordBatch(nil, 5, 1, 2, nil))
	f.Add(AppendControlBatch(nil, 9, 1, 2, ControlLeaderChange, []byte{0, 0}))
	f.Fuzz(func(t *testing.T, b []byte) {
		hdr, recs, ctrl, err := DecodeBatch(b)
		if err != nil {
			return
		}
		if hdr.IsControl() != (ctrl != nil) || (ctrl != nil && recs != nil) {
			t.Fatalf("control %v with %d records", ctrl, len(recs))
		}
	})
}
