package broker

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/storage"
)

// Asked for authorized operations, Metadata answers every operation a topic
// and the cluster support (Kafka's answer without an authorizer): READ,
// WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS and
// ALTER_CONFIGS for a topic (3576), and CREATE, ALTER, DESCRIBE,
// CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS and IDEMPOTENT_WRITE for
// the cluster (8096). Not asked, it answers Kafka's "not requested" value.
// kafka-python's admin client asks and fails on the "not requested" bit.
func TestMetadataAuthorizedOperations(t *testing.T) {
	tb := newTestBroker(t, nil, storage.Options{})
	for _, asked := range []bool{true, false} {
		req := kmsg.NewPtrMetadataRequest()
		req.SetVersion(10)
		req.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr(testTopic)}, {Topic: kmsg.StringPtr("missing")}}
		req.IncludeTopicAuthorizedOperations, req.IncludeClusterAuthorizedOperations = asked, asked
		resp := tb.b.metadataResponse(tb.b.Image(), req, "PLAINTEXT", nil)
		wantTopic, wantCluster := int32(3576), int32(8096)
		if !asked {
			wantTopic, wantCluster = authorizedOperationsUnset, authorizedOperationsUnset
		}
		if resp.AuthorizedOperations != wantCluster {
			t.Errorf("asked %v: cluster operations %d, want %d", asked, resp.AuthorizedOperations, wantCluster)
		}
		for _, rt := range resp.Topics {
			if rt.AuthorizedOperations != wantTopic {
				t.Errorf("asked %v: topic %s operations %d, want %d", asked, *rt.Topic, rt.AuthorizedOperations, wantTopic)
			}
		}
	}
	if groupOperations != 1<<3|1<<6|1<<8 {
		t.Errorf("group operations %d, want READ, DELETE and DESCRIBE", groupOperations)
	}
}
