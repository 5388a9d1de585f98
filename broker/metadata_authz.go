package broker

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// mayAutoCreate keeps the missing topics req's principal may create
// (CREATE on the cluster or on the topic).
func (b *Broker) mayAutoCreate(req *protocol.Request, names []string) []string {
	if !b.cfg.Authorizer.Enabled() || len(names) == 0 {
		return names
	}
	if b.clusterAllowed(req, kmsg.ACLOperationCreate) {
		return names
	}
	return slices.DeleteFunc(names, func(n string) bool { return !b.allowed(req, kmsg.ACLOperationCreate, topicRT, n) })
}

// authorizeMetadata narrows a Metadata answer to req's principal, as
// Kafka does: a listing of all topics leaves out those it may not
// DESCRIBE; a named topic it may not DESCRIBE, or may not create when it
// would be auto-created, is TOPIC_AUTHORIZATION_FAILED with nothing else
// told; authorized operations are the principal's.
func (b *Broker) authorizeMetadata(req *protocol.Request, resp *kmsg.MetadataResponse) *kmsg.MetadataResponse {
	if !b.cfg.Authorizer.Enabled() {
		return resp
	}
	r := req.Msg.(*kmsg.MetadataRequest)
	all := r.Topics == nil || (r.Version == 0 && len(r.Topics) == 0)
	mayCreateAll := b.clusterAllowed(req, kmsg.ACLOperationCreate)
	img := b.Image()
	out := resp.Topics[:0]
	for _, t := range resp.Topics {
		name := ""
		if t.Topic != nil {
			name = *t.Topic
		}
		describe := name != "" && b.allowed(req, aclDescribe, topicRT, name)
		if all && !describe {
			continue
		}
		missing := img.Topics.ByName(name) == nil
		if !describe || (missing && b.willCreate(r, name) && !mayCreateAll && !b.allowed(req, kmsg.ACLOperationCreate, topicRT, name)) {
			refused := kmsg.NewMetadataResponseTopic()
			refused.Topic, refused.ErrorCode = t.Topic, topicRefused
			refused.AuthorizedOperations = authorizedOperationsUnset
			t = refused
		} else {
			t.AuthorizedOperations = b.authorizedOps(req, r.IncludeTopicAuthorizedOperations, topicRT, name, topicOperations)
		}
		out = append(out, t)
	}
	resp.Topics = out
	resp.AuthorizedOperations = b.authorizedOps(req, r.IncludeClusterAuthorizedOperations, kmsg.ACLResourceTypeCluster, "kafka-cluster", clusterOperations)
	return resp
}
