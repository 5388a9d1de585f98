package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// fromBroker reports whether req may use the APIs only brokers send
// (WriteTxnMarkers, follower fetches): Kafka's CLUSTER_ACTION. With no
// authentication, the connection's listener is all there is to go on, so
// they are served only on the inter-broker listener; a single listener
// shared with clients therefore trusts its clients (the README says so).
// Once listeners authenticate, this is where a broker's principal is
// required instead.
//
// With an authorizer, the principal decides instead, as in Kafka: it needs
// CLUSTER_ACTION on the cluster (super users have it), on any listener.
func (b *Broker) fromBroker(req *protocol.Request) bool {
	if b.cfg.Authorizer.Enabled() {
		return b.clusterAllowed(req, kmsg.ACLOperationClusterAction)
	}
	return req.Listener == b.cfg.Node.InterBrokerListener
}

// refuseTxnMarkers answers a WriteTxnMarkers from a non-broker with
// CLUSTER_AUTHORIZATION_FAILED on every partition, as Kafka does.
func refuseTxnMarkers(r *kmsg.WriteTxnMarkersRequest) *kmsg.WriteTxnMarkersResponse {
	resp := r.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	for _, m := range r.Markers {
		rm := kmsg.NewWriteTxnMarkersResponseMarker()
		rm.ProducerID = m.ProducerID
		for _, t := range m.Topics {
			rt := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
				rp.Partition, rp.ErrorCode = p, kerr.ClusterAuthorizationFailed.Code
				rt.Partitions = append(rt.Partitions, rp)
			}
			rm.Topics = append(rm.Topics, rt)
		}
		resp.Markers = append(resp.Markers, rm)
	}
	return resp
}
