package broker

import (
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/consumergroup"
	"spool/broker/group"
	"spool/protocol"
)

// handleListGroups lists the groups this broker coordinates, filtered by
// state (v4+) and type (v5+: "classic", "consumer" for KIP-848 groups,
// "share" for KIP-932 share groups).
func (b *Broker) handleListGroups(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.ListGroupsRequest)
	resp := r.ResponseKind().(*kmsg.ListGroupsResponse)
	if b.groups.loading() {
		resp.ErrorCode = kerr.CoordinatorLoadInProgress.Code
		respond(protocol.Msg(resp))
		return
	}
	for _, cl := range b.groups.cells() {
		cl.mu.Lock()
		gone, lg := cl.gone, cl.g.Listing()
		if cl.cg != nil {
			lg = consumerListing(cl.cg)
		}
		cl.mu.Unlock()
		if gone || lg.GroupState == group.Dead.String() || !matchesFilter(r.StatesFilter, lg.GroupState) || !matchesFilter(r.TypesFilter, lg.GroupType) {
			continue
		}
		resp.Groups = append(resp.Groups, lg)
	}
	resp.Groups = append(resp.Groups, b.shares.listings(r.StatesFilter, r.TypesFilter)...)
	if b.cfg.Authorizer.Enabled() && !b.clusterAllowed(req, aclDescribe) {
		// Without DESCRIBE on the cluster, only the groups it may describe.
		resp.Groups = slices.DeleteFunc(resp.Groups, func(g kmsg.ListGroupsResponseGroup) bool { return !b.allowed(req, aclDescribe, groupRT, g.Group) })
	}
	slices.SortFunc(resp.Groups, func(a, b kmsg.ListGroupsResponseGroup) int { return strings.Compare(a.Group, b.Group) })
	respond(protocol.Msg(resp))
}

// consumerListing is a KIP-848 group as ListGroups shows it.
func consumerListing(cg *consumergroup.Group) kmsg.ListGroupsResponseGroup {
	lg := kmsg.NewListGroupsResponseGroup()
	lg.Group, lg.ProtocolType = cg.ID, "consumer"
	lg.GroupState, lg.GroupType = cg.State().String(), "consumer"
	return lg
}

// matchesFilter is Kafka's case-insensitive filter; an empty one matches
// everything.
func matchesFilter(filter []string, v string) bool {
	return len(filter) == 0 || slices.ContainsFunc(filter, func(f string) bool { return strings.EqualFold(f, v) })
}

// loading reports whether a led __consumer_offsets partition is still
// being loaded.
func (c *coordinator) loading() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, sh := range c.shards {
		if !sh.loaded.Load() {
			return true
		}
	}
	return false
}
