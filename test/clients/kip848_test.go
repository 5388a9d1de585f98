package clients_test

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// runGroupKIP848 is the group scenario with group.protocol=consumer
// (KIP-848): the broker assigns the partitions. Some clients fall back to
// the classic protocol when the broker lacks the new one, so the oracle
// also checks that the group the client left behind is a consumer group.
func runGroupKIP848(ctx context.Context, c *cell) error {
	if err := consumeAll(ctx, c, "--group-protocol", "consumer"); err != nil {
		return err
	}
	return c.d.oracle.groupType(ctx, c.group, "consumer")
}

// groupType checks that ListGroups lists group as a group of type kind.
func (o *oracle) groupType(ctx context.Context, group, kind string) error {
	req := kmsg.NewPtrListGroupsRequest()
	req.TypesFilter = []string{kind}
	shards := o.cl.RequestSharded(ctx, req)
	for _, s := range shards {
		if s.Err != nil {
			return fmt.Errorf("oracle: list groups: %w", s.Err)
		}
		for _, g := range s.Resp.(*kmsg.ListGroupsResponse).Groups {
			if g.Group != group {
				continue
			}
			if g.GroupType != kind {
				return fmt.Errorf("the group is listed as a %q group, want %q: the client fell back to the classic protocol", g.GroupType, kind)
			}
			return nil
		}
	}
	return fmt.Errorf("no broker lists the group as a %s group", kind)
}
