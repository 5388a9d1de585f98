package group

import "github.com/twmb/franz-go/pkg/kmsg"

// authorizedOperationsUnset is Kafka's "not requested" value.
const authorizedOperationsUnset = -2147483648

// Describe is the group as DescribeGroups shows it: members' metadata and
// assignments only for a stable group, as Kafka does, since otherwise they
// belong to no settled generation.
func (g *Group) Describe() kmsg.DescribeGroupsResponseGroup {
	dg := kmsg.NewDescribeGroupsResponseGroup()
	dg.Group, dg.State, dg.ProtocolType = g.ID, g.state.String(), g.protocolType
	dg.AuthorizedOperations = authorizedOperationsUnset
	if g.state == Stable {
		dg.Protocol = g.protocol
	}
	if g.state == Dead {
		return dg
	}
	for _, m := range g.Members() {
		dm := kmsg.NewDescribeGroupsResponseGroupMember()
		dm.MemberID, dm.InstanceID, dm.ClientID, dm.ClientHost = m.ID, m.InstanceID, m.ClientID, m.ClientHost
		dm.ProtocolMetadata, dm.MemberAssignment = []byte{}, []byte{}
		if g.state == Stable {
			dm.ProtocolMetadata, dm.MemberAssignment = m.metadataFor(g.protocol), m.Assignment
		}
		dg.Members = append(dg.Members, dm)
	}
	return dg
}

// DescribeUnknown is what DescribeGroups says of a group that does not
// exist: Dead, without error, as Kafka answers before v6.
func DescribeUnknown(id string) kmsg.DescribeGroupsResponseGroup {
	dg := kmsg.NewDescribeGroupsResponseGroup()
	dg.Group, dg.State = id, Dead.String()
	dg.AuthorizedOperations = authorizedOperationsUnset
	return dg
}

// Listing is the group as ListGroups shows it.
func (g *Group) Listing() kmsg.ListGroupsResponseGroup {
	lg := kmsg.NewListGroupsResponseGroup()
	lg.Group, lg.ProtocolType, lg.GroupState, lg.GroupType = g.ID, g.protocolType, g.state.String(), "classic"
	return lg
}
