package broker

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/protocol"
	"spool/quota"
)

// controller_mutation_rate (KIP-599) on the APIs that create or delete
// partitions: each topic asks as many permits as partitions it creates
// or deletes, counted against the client's quota before the request is
// forwarded. Topics refused (the versions that know the error) answer
// THROTTLING_QUOTA_EXCEEDED and are left out of what the controller sees;
// the response carries the throttle. Kafka counts on its controller,
// where forwarded requests keep the client's principal; Spool's brokers
// forward over their own connections, so they count.

var throttlingQuotaMsg = kmsg.StringPtr("The throttling quota has been exceeded.")

type forwardFunc func(ctx context.Context, req *protocol.Request) protocol.Response

// mutationLimited wraps a topic-mutating handler with
// controller_mutation_rate.
func (b *Broker) mutationLimited(serve forwardFunc) forwardFunc {
	return func(ctx context.Context, req *protocol.Request) protocol.Response {
		cq, ok := b.cfg.Quotas.(*clientQuotas)
		if !ok || len(b.Image().Quotas) == 0 {
			return serve(ctx, req)
		}
		switch r := req.Msg.(type) {
		case *kmsg.CreateTopicsRequest:
			return b.limitCreateTopics(ctx, req, r, cq, serve)
		case *kmsg.DeleteTopicsRequest:
			return b.limitDeleteTopics(ctx, req, r, cq, serve)
		case *kmsg.CreatePartitionsRequest:
			return b.limitCreatePartitions(ctx, req, r, cq, serve)
		}
		return serve(ctx, req)
	}
}

// mutations counts permits (-1: not counted, left to the controller).
func (b *Broker) mutations(req *protocol.Request, cq *clientQuotas, permits []int, strict bool) quota.Mutations {
	id := ""
	if req.ClientID != nil {
		id = *req.ClientID
	}
	counted := make([]int, 0, len(permits))
	for _, p := range permits {
		if p >= 0 {
			counted = append(counted, p)
		}
	}
	m := cq.m.RecordMutations(req.Principal.Name, id, counted, strict, time.Now())
	refused := make([]bool, len(permits))
	for i, j := 0, 0; i < len(permits); i++ {
		if permits[i] >= 0 {
			refused[i] = m.Refused[j]
			j++
		}
	}
	m.Refused = refused
	return m
}

func anyRefused(refused []bool) bool {
	for _, r := range refused {
		if r {
			return true
		}
	}
	return false
}

func throttleMs(d time.Duration) int32 { return int32(min(d.Milliseconds(), 1<<31-1)) }

// forwardSubset serves req with msg in place of its message, unless no
// item is left, when empty is the answer.
func forwardSubset(ctx context.Context, req *protocol.Request, msg kmsg.Request, kept int, empty kmsg.Response, serve forwardFunc) kmsg.Response {
	if kept == 0 {
		return empty
	}
	sub := *req
	sub.Msg = msg
	r := serve(ctx, &sub)
	if r.Msg == nil {
		return empty
	}
	return r.Msg
}

func (b *Broker) limitCreateTopics(ctx context.Context, req *protocol.Request, r *kmsg.CreateTopicsRequest, cq *clientQuotas, serve forwardFunc) protocol.Response {
	img := b.Image()
	permits := make([]int, len(r.Topics))
	for i, t := range r.Topics {
		switch {
		case img.Topics.ByName(t.Topic) != nil:
			permits[i] = -1 // the controller refuses it: nothing is created
		case len(t.ReplicaAssignment) > 0:
			permits[i] = len(t.ReplicaAssignment)
		case t.NumPartitions > 0:
			permits[i] = int(t.NumPartitions)
		default:
			permits[i] = int(b.cfg.Static.Int("num.partitions"))
		}
	}
	m := b.mutations(req, cq, permits, r.Version >= 6)
	if !anyRefused(m.Refused) && m.Throttle == 0 {
		return serve(ctx, req)
	}
	fr := *r
	fr.Topics = nil
	for i, t := range r.Topics {
		if !m.Refused[i] {
			fr.Topics = append(fr.Topics, t)
		}
	}
	resp := forwardSubset(ctx, req, &fr, len(fr.Topics), r.ResponseKind(), serve).(*kmsg.CreateTopicsResponse)
	for i, t := range r.Topics {
		if m.Refused[i] {
			rt := kmsg.NewCreateTopicsResponseTopic()
			rt.Topic, rt.ErrorCode, rt.ErrorMessage = t.Topic, kerr.ThrottlingQuotaExceeded.Code, throttlingQuotaMsg
			rt.NumPartitions, rt.ReplicationFactor = -1, -1
			resp.Topics = append(resp.Topics, rt)
		}
	}
	resp.ThrottleMillis = max(resp.ThrottleMillis, throttleMs(m.Throttle))
	return protocol.Msg(resp)
}

func (b *Broker) limitDeleteTopics(ctx context.Context, req *protocol.Request, r *kmsg.DeleteTopicsRequest, cq *clientQuotas, serve forwardFunc) protocol.Response {
	img := b.Image()
	count := func(t *metadata.Topic) int {
		if t == nil {
			return -1
		}
		return len(t.Partitions)
	}
	var permits []int
	for _, name := range r.TopicNames {
		permits = append(permits, count(img.Topics.ByName(name)))
	}
	for _, t := range r.Topics {
		if t.Topic != nil {
			permits = append(permits, count(img.Topics.ByName(*t.Topic)))
		} else {
			permits = append(permits, count(img.Topics.ByID(t.TopicID)))
		}
	}
	m := b.mutations(req, cq, permits, r.Version >= 5)
	if !anyRefused(m.Refused) && m.Throttle == 0 {
		return serve(ctx, req)
	}
	fr := *r
	fr.TopicNames, fr.Topics = nil, nil
	resp := r.ResponseKind().(*kmsg.DeleteTopicsResponse)
	refuse := func(name *string, id [16]byte) {
		rt := kmsg.NewDeleteTopicsResponseTopic()
		rt.Topic, rt.TopicID, rt.ErrorCode, rt.ErrorMessage = name, id, kerr.ThrottlingQuotaExceeded.Code, throttlingQuotaMsg
		resp.Topics = append(resp.Topics, rt)
	}
	i := 0
	for _, name := range r.TopicNames {
		if m.Refused[i] {
			refuse(kmsg.StringPtr(name), [16]byte{})
		} else {
			fr.TopicNames = append(fr.TopicNames, name)
		}
		i++
	}
	for _, t := range r.Topics {
		if m.Refused[i] {
			refuse(t.Topic, t.TopicID)
		} else {
			fr.Topics = append(fr.Topics, t)
		}
		i++
	}
	refused := resp.Topics
	resp = forwardSubset(ctx, req, &fr, len(fr.TopicNames)+len(fr.Topics), resp, serve).(*kmsg.DeleteTopicsResponse)
	if len(fr.TopicNames)+len(fr.Topics) > 0 {
		resp.Topics = append(resp.Topics, refused...)
	}
	resp.ThrottleMillis = max(resp.ThrottleMillis, throttleMs(m.Throttle))
	return protocol.Msg(resp)
}

func (b *Broker) limitCreatePartitions(ctx context.Context, req *protocol.Request, r *kmsg.CreatePartitionsRequest, cq *clientQuotas, serve forwardFunc) protocol.Response {
	img := b.Image()
	permits := make([]int, len(r.Topics))
	for i, t := range r.Topics {
		permits[i] = -1
		if cur := img.Topics.ByName(t.Topic); cur != nil && int(t.Count) > len(cur.Partitions) {
			permits[i] = int(t.Count) - len(cur.Partitions)
		}
	}
	m := b.mutations(req, cq, permits, r.Version >= 3)
	if !anyRefused(m.Refused) && m.Throttle == 0 {
		return serve(ctx, req)
	}
	fr := *r
	fr.Topics = nil
	for i, t := range r.Topics {
		if !m.Refused[i] {
			fr.Topics = append(fr.Topics, t)
		}
	}
	resp := forwardSubset(ctx, req, &fr, len(fr.Topics), r.ResponseKind(), serve).(*kmsg.CreatePartitionsResponse)
	for i, t := range r.Topics {
		if m.Refused[i] {
			rt := kmsg.NewCreatePartitionsResponseTopic()
			rt.Topic, rt.ErrorCode, rt.ErrorMessage = t.Topic, kerr.ThrottlingQuotaExceeded.Code, throttlingQuotaMsg
			resp.Topics = append(resp.Topics, rt)
		}
	}
	resp.ThrottleMillis = max(resp.ThrottleMillis, throttleMs(m.Throttle))
	return protocol.Msg(resp)
}
