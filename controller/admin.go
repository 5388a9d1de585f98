package controller

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

// CreateTopics validates and creates the request's topics. Each topic
// succeeds or fails on its own; the answer goes out once the records of the
// successful ones have committed.
func (c *Controller) CreateTopics(ctx context.Context, req *kmsg.CreateTopicsRequest) *kmsg.CreateTopicsResponse {
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	resp.Topics = make([]kmsg.CreateTopicsResponseTopic, len(req.Topics))
	counts := map[string]int{}
	for _, t := range req.Topics {
		counts[t.Topic]++
	}
	err := c.write(ctx, func(img *metadata.Image) ([]metadata.Record, error) {
		tc := newTopicCreator(img, c.cfg.Static)
		var recs []metadata.Record
		for i := range req.Topics {
			t, rt := &req.Topics[i], &resp.Topics[i]
			*rt = kmsg.NewCreateTopicsResponseTopic()
			rt.Topic = t.Topic
			if counts[t.Topic] > 1 {
				setTopicErr(rt, errf(kerr.InvalidRequest, "Create topics request from client contains duplicate topic %s", t.Topic))
				continue
			}
			trecs, terr := tc.create(t, rt)
			if terr != nil {
				setTopicErr(rt, terr)
				continue
			}
			if !req.ValidateOnly {
				recs = append(recs, trecs...)
			}
		}
		return recs, nil
	})
	if err != nil {
		code := errorCode(err)
		var msg *string
		if errors.Is(err, ErrMetadataLogFull) {
			msg = kmsg.StringPtr(err.Error())
		}
		for i := range resp.Topics {
			resp.Topics[i].Topic = req.Topics[i].Topic
			if resp.Topics[i].ErrorCode == 0 {
				resp.Topics[i].ErrorCode, resp.Topics[i].ErrorMessage = code, msg
			}
		}
	}
	return resp
}

func setTopicErr(rt *kmsg.CreateTopicsResponseTopic, e *topicError) {
	rt.ErrorCode = e.err.Code
	rt.ErrorMessage = &e.msg
	rt.NumPartitions, rt.ReplicationFactor = -1, -1
	// An empty list, not null, as Kafka answers (v5+ make it nullable).
	rt.Configs = []kmsg.CreateTopicsResponseTopicConfig{}
}

// DeleteTopics deletes topics by name or id. Their data is removed by the
// brokers in the background once the RemoveTopicRecord commits.
func (c *Controller) DeleteTopics(ctx context.Context, req *kmsg.DeleteTopicsRequest) *kmsg.DeleteTopicsResponse {
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	targets := req.Topics
	if req.Version < 6 {
		targets = nil
		for _, name := range req.TopicNames {
			n := name
			targets = append(targets, kmsg.DeleteTopicsRequestTopic{Topic: &n})
		}
	}
	resp.Topics = make([]kmsg.DeleteTopicsResponseTopic, len(targets))
	allowed := c.cfg.Static.Bool("delete.topic.enable")
	err := c.write(ctx, func(img *metadata.Image) ([]metadata.Record, error) {
		var recs []metadata.Record
		deleted := map[[16]byte]bool{}
		for i, t := range targets {
			rt := &resp.Topics[i]
			*rt = kmsg.NewDeleteTopicsResponseTopic()
			rt.Topic, rt.TopicID = t.Topic, t.TopicID
			topic, e := findTopic(img, t)
			if e != nil {
				rt.ErrorCode, rt.ErrorMessage = e.err.Code, &e.msg
				continue
			}
			name := topic.Name
			rt.Topic, rt.TopicID = &name, topic.ID
			if !allowed {
				rt.ErrorCode = kerr.TopicDeletionDisabled.Code
				continue
			}
			if !deleted[topic.ID] {
				deleted[topic.ID] = true
				recs = append(recs, &metadata.RemoveTopicRecord{TopicID: topic.ID})
			}
		}
		return recs, nil
	})
	if err != nil {
		for i := range resp.Topics {
			if resp.Topics[i].ErrorCode == 0 {
				resp.Topics[i].ErrorCode = errorCode(err)
			}
		}
	}
	return resp
}

func findTopic(img *metadata.Image, t kmsg.DeleteTopicsRequestTopic) (*metadata.Topic, *topicError) {
	hasName := t.Topic != nil && *t.Topic != ""
	hasID := t.TopicID != [16]byte{}
	switch {
	case hasName && hasID:
		return nil, errf(kerr.InvalidRequest, "Topic name and topic id cannot both be set.")
	case hasID:
		if topic := img.Topics.ByID(t.TopicID); topic != nil {
			return topic, nil
		}
		return nil, errf(kerr.UnknownTopicID, "This server does not host this topic ID.")
	case hasName:
		if topic := img.Topics.ByName(*t.Topic); topic != nil {
			return topic, nil
		}
		return nil, errf(kerr.UnknownTopicOrPartition, "This server does not host this topic-partition.")
	}
	return nil, errf(kerr.InvalidRequest, "Neither topic name nor id was set.")
}

// errorCode maps an error from the controller to a Kafka error code.
func errorCode(err error) int16 {
	var ke *kerr.Error
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ke):
		return ke.Code
	case errors.Is(err, ErrNotController):
		return kerr.NotController.Code
	case errors.Is(err, ErrMetadataLogFull):
		return kerr.KafkaStorageError.Code
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return kerr.RequestTimedOut.Code
	}
	return kerr.UnknownServerError.Code
}
