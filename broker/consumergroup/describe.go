package consumergroup

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Member types in ConsumerGroupDescribe v1 (KIP-1099).
const (
	memberTypeClassic  int8 = 0
	memberTypeConsumer int8 = 1
)

// Describe is the group as ConsumerGroupDescribe answers it; topic names
// come from topics (a deleted topic's partitions are left out).
func (g *Group) Describe(topics Topics) kmsg.ConsumerGroupDescribeResponseGroup {
	d := kmsg.NewConsumerGroupDescribeResponseGroup()
	d.Group = g.ID
	d.State = g.State().String()
	d.Epoch, d.AssignmentEpoch = g.epoch, g.targetEpoch
	d.AssignorName = g.assignorName()
	d.Members = []kmsg.ConsumerGroupDescribeResponseGroupMember{}
	for _, m := range g.Members() {
		dm := kmsg.NewConsumerGroupDescribeResponseGroupMember()
		dm.MemberID, dm.InstanceID, dm.RackID = m.ID, m.InstanceID, m.RackID
		dm.MemberEpoch = m.Epoch
		dm.ClientID, dm.ClientHost = m.ClientID, m.ClientHost
		dm.SubscribedTopics = slices.Clone(m.Topics)
		if dm.SubscribedTopics == nil {
			dm.SubscribedTopics = []string{}
		}
		dm.SubscribedTopicRegex = m.Regex
		dm.Assignment = describeAssignment(m.Assigned, topics)
		dm.TargetAssignment = describeAssignment(g.target[m.ID], topics)
		dm.MemberType = memberTypeConsumer
		if m.UsesClassic() {
			dm.MemberType = memberTypeClassic
		}
		d.Members = append(d.Members, dm)
	}
	return d
}

func describeAssignment(a Assignment, topics Topics) kmsg.Assignment {
	out := kmsg.NewAssignment()
	out.TopicPartitions = []kmsg.AssignmentTopicPartition{}
	for _, id := range a.topicIDs() {
		t, ok := topics.ByID(id)
		if !ok {
			continue
		}
		tp := kmsg.NewAssignmentTopicPartition()
		tp.TopicID, tp.Topic, tp.Partitions = id, t.Name, slices.Clone(a[id])
		out.TopicPartitions = append(out.TopicPartitions, tp)
	}
	return out
}
