package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/security"
)

type createTopic struct {
	Name              string            `json:"name"`
	Partitions        int32             `json:"partitions"`
	ReplicationFactor int16             `json:"replication_factor"`
	Configs           map[string]string `json:"configs"`
}

// createTopic serves POST /v1/topics: CreateTopics, allowed with CREATE
// on the cluster or on the topic, as Kafka allows it. Zero partitions or
// replication factor take the broker's defaults.
func (c *Console) createTopic(ctx context.Context, _ *http.Request, dec *json.Decoder, p security.Principal, host string) (any, error) {
	var req createTopic
	if err := decode(dec, &req, false); err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, badRequest("name is required")
	}
	if !c.authorize(p, host, kmsg.ACLOperationCreate, kmsg.ACLResourceTypeCluster, "kafka-cluster") &&
		!c.authorize(p, host, kmsg.ACLOperationCreate, kmsg.ACLResourceTypeTopic, req.Name) {
		return nil, refused(p, kmsg.ACLOperationCreate, kmsg.ACLResourceTypeTopic, req.Name)
	}
	if req.Partitions == 0 {
		req.Partitions = -1
	}
	if req.ReplicationFactor == 0 {
		req.ReplicationFactor = -1
	}
	configs := map[string]*string{}
	for k, v := range req.Configs {
		configs[k] = &v
	}
	adm, err := c.admin()
	if err != nil {
		return nil, err
	}
	resp, err := adm.CreateTopic(ctx, req.Partitions, req.ReplicationFactor, configs, req.Name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return nil, kafkaRefusal(err, resp.ErrMessage)
	}
	return map[string]any{"created": resp.Topic, "partitions": resp.NumPartitions, "replication_factor": resp.ReplicationFactor}, nil
}

// deleteTopic serves DELETE /v1/topics/{topic}: DeleteTopics, allowed with
// DELETE on the topic.
func (c *Console) deleteTopic(ctx context.Context, r *http.Request, _ *json.Decoder, p security.Principal, host string) (any, error) {
	name := r.PathValue("topic")
	if !c.authorize(p, host, kmsg.ACLOperationDelete, kmsg.ACLResourceTypeTopic, name) {
		return nil, refused(p, kmsg.ACLOperationDelete, kmsg.ACLResourceTypeTopic, name)
	}
	adm, err := c.admin()
	if err != nil {
		return nil, err
	}
	resps, err := adm.DeleteTopics(ctx, name)
	if err != nil {
		return nil, err
	}
	resp, err := resps.On(name, nil)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return nil, kafkaRefusal(err, resp.ErrMessage)
	}
	return map[string]any{"deleted": name}, nil
}

type alterConfigs struct {
	Set    map[string]string `json:"set"`
	Delete []string          `json:"delete"`
}

// alterConfigs serves PUT /v1/topics/{topic}/configs:
// IncrementalAlterConfigs setting and deleting topic configs, allowed with
// ALTER_CONFIGS on the topic.
func (c *Console) alterConfigs(ctx context.Context, r *http.Request, dec *json.Decoder, p security.Principal, host string) (any, error) {
	name := r.PathValue("topic")
	var req alterConfigs
	if err := decode(dec, &req, false); err != nil {
		return nil, err
	}
	if len(req.Set)+len(req.Delete) == 0 {
		return nil, badRequest("nothing to change: give set or delete")
	}
	if !c.authorize(p, host, kmsg.ACLOperationAlterConfigs, kmsg.ACLResourceTypeTopic, name) {
		return nil, refused(p, kmsg.ACLOperationAlterConfigs, kmsg.ACLResourceTypeTopic, name)
	}
	var changes []kadm.AlterConfig
	keys := make([]string, 0, len(req.Set))
	for k := range req.Set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := req.Set[k]
		changes = append(changes, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: &v})
	}
	for _, k := range req.Delete {
		changes = append(changes, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
	}
	adm, err := c.admin()
	if err != nil {
		return nil, err
	}
	resps, err := adm.AlterTopicConfigs(ctx, changes, name)
	if err != nil {
		return nil, err
	}
	resp, err := resps.On(name, nil)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return nil, kafkaRefusal(err, resp.ErrMessage)
	}
	return map[string]any{"altered": name}, nil
}

type deleteRecords struct {
	BeforeOffset int64 `json:"before_offset"`
}

// deleteRecords serves POST
// /v1/topics/{topic}/partitions/{partition}/delete-records: DeleteRecords
// up to an offset (-1 is the high watermark), allowed with DELETE on the
// topic.
func (c *Console) deleteRecords(ctx context.Context, r *http.Request, dec *json.Decoder, p security.Principal, host string) (any, error) {
	topic, part, err := c.partitionOf(r)
	if err != nil {
		return nil, err
	}
	var req deleteRecords
	if err := decode(dec, &req, false); err != nil {
		return nil, err
	}
	if req.BeforeOffset < -1 {
		return nil, badRequest("before_offset must be an offset, or -1 for the high watermark")
	}
	if !c.authorize(p, host, kmsg.ACLOperationDelete, kmsg.ACLResourceTypeTopic, topic) {
		return nil, refused(p, kmsg.ACLOperationDelete, kmsg.ACLResourceTypeTopic, topic)
	}
	adm, err := c.admin()
	if err != nil {
		return nil, err
	}
	offsets := kadm.Offsets{}
	offsets.AddOffset(topic, part, req.BeforeOffset, -1)
	resps, err := adm.DeleteRecords(ctx, offsets)
	if err != nil {
		return nil, err
	}
	resp, ok := resps.Lookup(topic, part)
	if !ok {
		return nil, fmt.Errorf("DeleteRecords answered nothing for %s-%d", topic, part)
	}
	if resp.Err != nil {
		return nil, kafkaRefusal(resp.Err, "")
	}
	return map[string]any{"topic": topic, "partition": part, "log_start_offset": resp.LowWatermark}, nil
}

// kafkaRefusal turns a Kafka error into an answer: the client's mistakes
// are 400 (409 for an existing topic), refusals 403, the rest 502.
func kafkaRefusal(err error, msg string) error {
	text := err.Error()
	if msg != "" {
		text += ": " + msg
	}
	var ke *kerr.Error
	if !errors.As(err, &ke) {
		return err
	}
	switch ke {
	case kerr.TopicAlreadyExists:
		return &apiError{http.StatusConflict, text}
	case kerr.TopicAuthorizationFailed, kerr.ClusterAuthorizationFailed, kerr.GroupAuthorizationFailed:
		return &apiError{http.StatusForbidden, text}
	case kerr.UnknownTopicOrPartition, kerr.GroupIDNotFound:
		return &apiError{http.StatusNotFound, text}
	case kerr.RequestTimedOut, kerr.NotController, kerr.NotLeaderForPartition, kerr.CoordinatorNotAvailable:
		return err
	}
	return &apiError{http.StatusBadRequest, text}
}
