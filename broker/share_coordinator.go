package broker

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

// findShareCoordinator answers FindCoordinator for a share-partition key
// (group:topicId:partition, the topic id in Kafka's base64 form): the
// share coordinator is the partition's leader, which keeps the state.
func (b *Broker) findShareCoordinator(img *metadata.Image, c kmsg.FindCoordinatorResponseCoordinator, listener string) kmsg.FindCoordinatorResponseCoordinator {
	fail := func(err *kerr.Error, msg string) kmsg.FindCoordinatorResponseCoordinator {
		c.ErrorCode, c.ErrorMessage = err.Code, &msg
		return c
	}
	id, part, ok := parseShareKey(c.Key)
	if !ok {
		return fail(kerr.InvalidRequest, "a share coordinator key is group:topicId:partition")
	}
	t := img.Topics.ByID(id)
	if t == nil || t.Partition(part) == nil {
		return fail(kerr.UnknownTopicOrPartition, "no such share-partition")
	}
	br := img.Brokers[t.Partition(part).Leader]
	if br == nil || br.Fenced {
		return fail(kerr.CoordinatorNotAvailable, "the share-partition's leader is not available")
	}
	ep, ok := br.Endpoint(listener)
	if !ok {
		return fail(kerr.CoordinatorNotAvailable, "the coordinator has no endpoint on listener "+listener)
	}
	c.NodeID, c.Host, c.Port = br.ID, ep.Host, int32(ep.Port)
	return c
}

// parseShareKey reads group:topicId:partition; the group may hold colons.
func parseShareKey(key string) (id [16]byte, partition int32, ok bool) {
	last := strings.LastIndexByte(key, ':')
	if last < 0 {
		return id, 0, false
	}
	mid := strings.LastIndexByte(key[:last], ':')
	if mid <= 0 {
		return id, 0, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(key[mid+1 : last])
	p, perr := strconv.ParseInt(key[last+1:], 10, 32)
	if err != nil || len(raw) != 16 || perr != nil || p < 0 {
		return id, 0, false
	}
	return [16]byte(raw), int32(p), true
}
