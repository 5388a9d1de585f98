package controller

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
	"spool/storage"
)

// MetadataTopicID is Kafka's fixed id of __cluster_metadata.
var MetadataTopicID = [16]byte{15: 1}

// serveFetch serves the committed metadata log to brokers, long-polling
// until the commit index passes the fetch offset or MaxWaitMillis ends.
func (c *Controller) serveFetch(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.FetchRequest)
	offset, ok := metadataFetchOffset(r)
	if !ok {
		respond(protocol.Msg(c.fetchError(r, kerr.UnknownTopicOrPartition)))
		return
	}
	if c.LeaderID() != c.cfg.NodeID {
		respond(protocol.Msg(c.fetchError(r, kerr.NotLeaderForPartition)))
		return
	}
	hw, advanced := c.hw.get()
	if offset <= hw || r.MaxWaitMillis <= 0 {
		respond(protocol.Msg(c.fetchResponse(r, offset)))
		return
	}
	go func() {
		t := time.NewTimer(time.Duration(r.MaxWaitMillis) * time.Millisecond)
		defer t.Stop()
		select {
		case <-advanced:
		case <-t.C:
		}
		respond(protocol.Msg(c.fetchResponse(r, offset)))
	}()
}

// metadataFetchOffset finds the one partition a metadata fetch may name.
func metadataFetchOffset(r *kmsg.FetchRequest) (int64, bool) {
	if len(r.Topics) != 1 || len(r.Topics[0].Partitions) != 1 {
		return 0, false
	}
	t := r.Topics[0]
	if t.Topic != MetadataTopic && t.TopicID != MetadataTopicID {
		return 0, false
	}
	if t.Partitions[0].Partition != 0 {
		return 0, false
	}
	return t.Partitions[0].FetchOffset, true
}

func (c *Controller) fetchResponse(r *kmsg.FetchRequest, offset int64) *kmsg.FetchResponse {
	resp, p := c.fetchShell(r)
	hw, _ := c.hw.get()
	p.HighWatermark, p.LastStableOffset = hw+1, hw+1
	p.LogStartOffset = c.store.log.LogStartOffset()
	if offset < p.LogStartOffset {
		// Behind the log: the fetcher must load the snapshot first.
		if id, ok, _ := latestSnapshot(c.store.dir); ok && id.EndOffset >= p.LogStartOffset {
			p.SnapshotID.EndOffset, p.SnapshotID.Epoch = id.EndOffset, id.Epoch
			return resp
		}
		p.ErrorCode = kerr.OffsetOutOfRange.Code
		return resp
	}
	if offset > hw+1 {
		p.ErrorCode = kerr.OffsetOutOfRange.Code
		return resp
	}
	maxBytes := int(r.Topics[0].Partitions[0].PartitionMaxBytes)
	if r.MaxBytes > 0 {
		maxBytes = min(maxBytes, int(r.MaxBytes))
	}
	sl, err := c.store.log.Read(offset, max(maxBytes, 1), hw+1, true)
	if err != nil {
		p.ErrorCode = fetchErrorCode(err)
		return resp
	}
	defer sl.Release()
	if !sl.Empty() {
		if p.RecordBatches, err = sl.ReadAll(nil); err != nil {
			p.ErrorCode = kerr.KafkaStorageError.Code
			p.RecordBatches = nil
		}
	}
	return resp
}

func fetchErrorCode(err error) int16 {
	if err == storage.ErrOffsetOutOfRange {
		return kerr.OffsetOutOfRange.Code
	}
	return kerr.KafkaStorageError.Code
}

func (c *Controller) fetchError(r *kmsg.FetchRequest, e *kerr.Error) *kmsg.FetchResponse {
	resp, p := c.fetchShell(r)
	p.ErrorCode = e.Code
	p.CurrentLeader.LeaderID = c.LeaderID()
	p.CurrentLeader.LeaderEpoch = c.Epoch()
	return resp
}

// fetchShell builds a response with the request's one partition.
func (c *Controller) fetchShell(r *kmsg.FetchRequest) (*kmsg.FetchResponse, *kmsg.FetchResponseTopicPartition) {
	resp := r.ResponseKind().(*kmsg.FetchResponse)
	t := kmsg.NewFetchResponseTopic()
	t.Topic, t.TopicID = MetadataTopic, MetadataTopicID
	p := kmsg.NewFetchResponseTopicPartition()
	if len(r.Topics) > 0 {
		t.Topic, t.TopicID = r.Topics[0].Topic, r.Topics[0].TopicID
		if len(r.Topics[0].Partitions) > 0 {
			p.Partition = r.Topics[0].Partitions[0].Partition
		}
	}
	t.Partitions = []kmsg.FetchResponseTopicPartition{p}
	resp.Topics = []kmsg.FetchResponseTopic{t}
	return resp, &resp.Topics[0].Partitions[0]
}
