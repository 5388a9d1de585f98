package consumergroup

import (
	"github.com/twmb/franz-go/pkg/kerr"

	"spool/broker/group"
)

// ValidateCommit is Kafka's check of an OffsetCommit (or TxnOffsetCommit)
// to a consumer group: anyone may commit to an empty group with epoch -1
// (admin tools, consumers without group management); otherwise only a
// member at its current epoch. A member on the classic protocol sends its
// generation, and a wrong one is ILLEGAL_GENERATION; a consumer-protocol
// member with a wrong epoch gets STALE_MEMBER_EPOCH, and must commit with
// OffsetCommit v9 or later unless the commit is transactional.
func (g *Group) ValidateCommit(memberID string, epoch int32, txn bool, version int16) *kerr.Error {
	if epoch < 0 && len(g.members) == 0 {
		return nil
	}
	m := g.members[memberID]
	if m == nil {
		return kerr.UnknownMemberID
	}
	if !txn && !m.UsesClassic() && version < 9 {
		return kerr.UnsupportedVersion
	}
	return checkMemberEpoch(m, epoch)
}

// ValidateFetch is Kafka's check of an OffsetFetch (v9+) that names a
// member: without a member id and with epoch -1 anyone may read.
func (g *Group) ValidateFetch(memberID *string, epoch int32) *kerr.Error {
	if memberID == nil && epoch < 0 {
		return nil
	}
	id := ""
	if memberID != nil {
		id = *memberID
	}
	m := g.members[id]
	if m == nil {
		return kerr.UnknownMemberID
	}
	return checkMemberEpoch(m, epoch)
}

func checkMemberEpoch(m *Member, epoch int32) *kerr.Error {
	if epoch == m.Epoch {
		return nil
	}
	if m.UsesClassic() {
		return kerr.IllegalGeneration
	}
	return kerr.StaleMemberEpoch
}

// ValidateDelete is Kafka's check before DeleteGroups: only an empty
// group may go.
func (g *Group) ValidateDelete() *kerr.Error {
	if g.State() != Empty {
		return kerr.NonEmptyGroup
	}
	return nil
}

// Delete ends an empty group (DeleteGroups, or a classic JoinGroup that
// takes the group id over): the tombstones of all its records, as Kafka
// writes them. The group must not be used after.
func (g *Group) Delete() Out {
	var out Out
	var recs []group.Record
	for _, m := range g.Members() {
		recs = append(recs, g.removalRecords(m)...)
		g.dropMember(m.ID)
	}
	for re := range g.regexes {
		recs = append(recs, tombstone(memberKey(TypeRegularExpression, g.ID, re)))
	}
	recs = append(recs, tombstone(groupKey(TypeTargetAssignmentMetadata, g.ID)), tombstone(groupKey(TypeGroupMetadata, g.ID)))
	g.regexes = map[string]resolvedRegex{}
	for k := range g.armed {
		g.disarm(&out, k)
	}
	g.write(&out, recs, nil)
	g.dead = true
	return out
}
