package consumergroup

import (
	"github.com/twmb/franz-go/pkg/kbin"

	"spool/broker/group"
)

// memberRecord is ConsumerGroupMemberMetadata: who the member is and what
// it subscribes to; members on the classic protocol carry their session
// timeout and JoinGroup protocols in tag 0.
func memberRecord(groupID string, m *Member) group.Record {
	v := kbin.AppendCompactNullableString(newValue(), m.InstanceID)
	v = kbin.AppendCompactNullableString(v, m.RackID)
	v = kbin.AppendCompactString(v, m.ClientID)
	v = kbin.AppendCompactString(v, m.ClientHost)
	v = appendStrings(v, m.Topics)
	v = kbin.AppendCompactNullableString(v, m.Regex)
	v = kbin.AppendInt32(v, int32(m.RebalanceTimeout.Milliseconds()))
	v = kbin.AppendCompactNullableString(v, m.Assignor)
	if m.Classic == nil {
		v = kbin.AppendUvarint(v, 0)
	} else {
		var c []byte
		c = kbin.AppendInt32(c, int32(m.Classic.SessionTimeout.Milliseconds()))
		c = kbin.AppendCompactArrayLen(c, len(m.Classic.Protocols))
		for _, p := range m.Classic.Protocols {
			c = kbin.AppendCompactString(c, p.Name)
			c = kbin.AppendCompactBytes(c, p.Metadata)
			c = kbin.AppendUvarint(c, 0)
		}
		c = kbin.AppendUvarint(c, 0)
		v = kbin.AppendUvarint(v, 1)
		v = appendTag(v, 0, c)
	}
	return group.Record{Key: memberKey(TypeMemberMetadata, groupID, m.ID), Value: v}
}

// readMember fills m's metadata from a ConsumerGroupMemberMetadata value.
func readMember(b []byte, m *Member) error {
	r, err := valueReader(b, "ConsumerGroupMemberMetadata")
	if err != nil {
		return err
	}
	m.InstanceID = r.CompactNullableString()
	m.RackID = r.CompactNullableString()
	m.ClientID = r.CompactString()
	m.ClientHost = r.CompactString()
	m.Topics = r.strings()
	m.Regex = r.CompactNullableString()
	m.RebalanceTimeout = ms(r.Int32())
	m.Assignor = r.CompactNullableString()
	m.Classic = nil
	r.tags(func(tag uint32, f *reader) {
		if tag != 0 {
			return
		}
		c := &ClassicMetadata{SessionTimeout: ms(f.Int32())}
		n := f.CompactArrayLen()
		for i := int32(0); i < n && f.Ok(); i++ {
			p := group.Protocol{Name: f.CompactString(), Metadata: f.CompactBytes()}
			f.tags(nil)
			c.Protocols = append(c.Protocols, p)
		}
		f.tags(nil)
		if f.Ok() {
			m.Classic = c
		}
	})
	return r.done("ConsumerGroupMemberMetadata")
}

// currentRecord is ConsumerGroupCurrentMemberAssignment: the member's
// epochs, reconciliation state, what it owns and what it must revoke.
func currentRecord(groupID string, m *Member) group.Record {
	v := kbin.AppendInt32(newValue(), m.Epoch)
	v = kbin.AppendInt32(v, m.PreviousEpoch)
	v = kbin.AppendInt8(v, int8(m.State))
	v = appendAssignment(v, m.Assigned)
	v = appendAssignment(v, m.Revoking)
	v = kbin.AppendUvarint(v, 0)
	return group.Record{Key: memberKey(TypeCurrentMemberAssignment, groupID, m.ID), Value: v}
}

func readCurrent(b []byte, m *Member) error {
	r, err := valueReader(b, "ConsumerGroupCurrentMemberAssignment")
	if err != nil {
		return err
	}
	m.Epoch = r.Int32()
	m.PreviousEpoch = r.Int32()
	m.State = MemberState(r.Int8())
	m.Assigned = readAssignment(r)
	m.Revoking = readAssignment(r)
	r.tags(nil)
	return r.done("ConsumerGroupCurrentMemberAssignment")
}
