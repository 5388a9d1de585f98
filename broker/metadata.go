package broker

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/protocol"
)

// autoCreateWait bounds how long a Metadata request waits for the topics it
// auto-creates to appear; past it the client sees LEADER_NOT_AVAILABLE and
// retries, as it would against Kafka.
const autoCreateWait = 5 * time.Second

func (b *Broker) handleMetadata(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.MetadataRequest)
	missing := b.mayAutoCreate(req, b.topicsToCreate(b.Image(), r))
	if len(missing) == 0 {
		respond(protocol.Msg(b.authorizeMetadata(req, b.metadataResponse(b.Image(), r, req.Listener, nil))))
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(req.Context(), autoCreateWait)
		defer cancel()
		errs := b.autoCreate(ctx, missing)
		respond(protocol.Msg(b.authorizeMetadata(req, b.metadataResponse(b.Image(), r, req.Listener, errs))))
	}()
}

// topicsToCreate lists requested topics that are missing and may be
// auto-created.
func (b *Broker) topicsToCreate(img *metadata.Image, r *kmsg.MetadataRequest) []string {
	allow := r.AllowAutoTopicCreation || r.Version < 4
	if !allow || !b.cfg.Static.Bool("auto.create.topics.enable") {
		return nil
	}
	var out []string
	for _, t := range r.Topics {
		if t.Topic == nil || img.Topics.ByName(*t.Topic) != nil || isInternal(*t.Topic) || *t.Topic == metadataTopic {
			continue
		}
		out = append(out, *t.Topic)
	}
	return out
}

// autoCreate asks the controller for the topics with the broker defaults
// and waits until they are in this broker's image. It returns the topics
// that could not be created with their errors.
func (b *Broker) autoCreate(ctx context.Context, names []string) map[string]int16 {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.SetVersion(7)
	req.TimeoutMillis = int32(autoCreateWait / time.Millisecond)
	for _, n := range names {
		t := kmsg.NewCreateTopicsRequestTopic()
		t.Topic, t.NumPartitions, t.ReplicationFactor = n, -1, -1
		req.Topics = append(req.Topics, t)
	}
	errs := map[string]int16{}
	raw, err := b.controllers.Request(ctx, req)
	if err != nil {
		for _, n := range names {
			errs[n] = kerr.LeaderNotAvailable.Code
		}
		return errs
	}
	for _, t := range raw.(*kmsg.CreateTopicsResponse).Topics {
		if t.ErrorCode != 0 && t.ErrorCode != kerr.TopicAlreadyExists.Code {
			errs[t.Topic] = t.ErrorCode
		}
	}
	b.meta.waitUntil(ctx, func(img *metadata.Image) bool {
		for _, n := range names {
			if _, failed := errs[n]; !failed && img.Topics.ByName(n) == nil {
				return false
			}
		}
		return true
	})
	return errs
}

func (b *Broker) metadataResponse(img *metadata.Image, r *kmsg.MetadataRequest, listener string, createErrs map[string]int16) *kmsg.MetadataResponse {
	resp := r.ResponseKind().(*kmsg.MetadataResponse)
	clusterID := b.cfg.ClusterID
	resp.ClusterID = &clusterID
	resp.ControllerID = b.cfg.NodeID
	resp.Brokers = brokersFor(img, listener)

	resp.Topics = b.metadataTopics(img, r, createErrs)
	// Versions 8-10 carry the cluster's; every version from 8 the topics'.
	resp.AuthorizedOperations = authorizedOperations(r.IncludeClusterAuthorizedOperations, clusterOperations)
	for i := range resp.Topics {
		resp.Topics[i].AuthorizedOperations = authorizedOperations(r.IncludeTopicAuthorizedOperations, topicOperations)
	}
	return resp
}

// metadataTopics describes every topic, or the requested ones.
func (b *Broker) metadataTopics(img *metadata.Image, r *kmsg.MetadataRequest, createErrs map[string]int16) []kmsg.MetadataResponseTopic {
	var out []kmsg.MetadataResponseTopic
	if r.Topics == nil || (r.Version == 0 && len(r.Topics) == 0) {
		img.Topics.Range(func(t *metadata.Topic) bool {
			out = append(out, b.topicMetadata(t, r.Version))
			return true
		})
		sort.Slice(out, func(i, j int) bool { return *out[i].Topic < *out[j].Topic })
		return out
	}
	for _, rt := range r.Topics {
		out = append(out, b.requestedTopic(img, rt, r, createErrs))
	}
	return out
}

func (b *Broker) requestedTopic(img *metadata.Image, rt kmsg.MetadataRequestTopic, r *kmsg.MetadataRequest, createErrs map[string]int16) kmsg.MetadataResponseTopic {
	var t *metadata.Topic
	if rt.Topic != nil {
		t = img.Topics.ByName(*rt.Topic)
	} else {
		t = img.Topics.ByID(rt.TopicID)
	}
	if t != nil {
		return b.topicMetadata(t, r.Version)
	}
	mt := kmsg.NewMetadataResponseTopic()
	mt.Topic, mt.TopicID = rt.Topic, rt.TopicID
	switch {
	case rt.Topic == nil:
		mt.ErrorCode = kerr.UnknownTopicID.Code
	case createErrs[*rt.Topic] != 0:
		mt.ErrorCode = createErrs[*rt.Topic]
	case b.willCreate(r, *rt.Topic):
		mt.ErrorCode = kerr.LeaderNotAvailable.Code
	case metadata.TopicNameProblem(*rt.Topic) != "":
		mt.ErrorCode = kerr.InvalidTopicException.Code
	default:
		mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
	}
	return mt
}

// willCreate reports whether a missing topic is being auto-created.
func (b *Broker) willCreate(r *kmsg.MetadataRequest, name string) bool {
	return (r.AllowAutoTopicCreation || r.Version < 4) && b.cfg.Static.Bool("auto.create.topics.enable") && !isInternal(name)
}

func (b *Broker) topicMetadata(t *metadata.Topic, version int16) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	name := t.Name
	mt.Topic, mt.TopicID, mt.IsInternal = &name, t.ID, isInternal(t.Name)
	img := b.Image()
	for _, p := range t.Partitions {
		mp := kmsg.NewMetadataResponseTopicPartition()
		mp.Partition, mp.Leader, mp.LeaderEpoch = p.ID, p.Leader, p.LeaderEpoch
		mp.Replicas, mp.ISR = p.Replicas, p.ISR
		for _, r := range p.Replicas {
			if br := img.Brokers[r]; br == nil || br.Fenced {
				mp.OfflineReplicas = append(mp.OfflineReplicas, r)
			}
		}
		if p.Leader < 0 || !b.leaderReady(t.Name, p) {
			mp.ErrorCode = kerr.LeaderNotAvailable.Code
			mp.Leader = -1
		}
		mt.Partitions = append(mt.Partitions, mp)
	}
	return mt
}

// leaderReady reports whether a partition this broker leads has its log
// open; other brokers' partitions are taken as the image says.
func (b *Broker) leaderReady(topic string, p *metadata.Partition) bool {
	if p.Leader != b.cfg.NodeID {
		return true
	}
	return b.replicas.get(tp{topic, p.ID}) != nil
}

// brokersFor lists the unfenced brokers with an endpoint on listener.
func brokersFor(img *metadata.Image, listener string) []kmsg.MetadataResponseBroker {
	var out []kmsg.MetadataResponseBroker
	for _, br := range img.Brokers {
		if br.Fenced {
			continue
		}
		ep, ok := br.Endpoint(listener)
		if !ok {
			continue
		}
		mb := kmsg.NewMetadataResponseBroker()
		mb.NodeID, mb.Host, mb.Port, mb.Rack = br.ID, ep.Host, int32(ep.Port), br.Rack
		out = append(out, mb)
	}
	slices.SortFunc(out, func(a, b kmsg.MetadataResponseBroker) int { return int(a.NodeID - b.NodeID) })
	return out
}

// isInternal reports Kafka's internal topics.
func isInternal(name string) bool {
	return name == "__consumer_offsets" || name == "__transaction_state"
}
