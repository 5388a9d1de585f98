package protocol

import (
	"context"
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// snapshotChunk is how much of a snapshot one FetchSnapshot asks for: the
// file is streamed, never held in one message.
const snapshotChunk = 1 << 20

// DownloadSnapshot streams the snapshot endOffset/epoch of topic partition
// 0 from the peer behind c into w with FetchSnapshot requests.
func DownloadSnapshot(ctx context.Context, c *Client, topic string, endOffset int64, epoch int32, w io.Writer) error {
	var pos int64
	for {
		req := kmsg.NewPtrFetchSnapshotRequest()
		req.SetVersion(0)
		req.ReplicaID = -1
		req.MaxBytes = snapshotChunk
		rt := kmsg.NewFetchSnapshotRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewFetchSnapshotRequestTopicPartition()
		rp.SnapshotID.EndOffset, rp.SnapshotID.Epoch = endOffset, epoch
		rp.Position = pos
		rp.CurrentLeaderEpoch = -1
		rt.Partitions = []kmsg.FetchSnapshotRequestTopicPartition{rp}
		req.Topics = []kmsg.FetchSnapshotRequestTopic{rt}
		raw, err := c.Request(ctx, req)
		if err != nil {
			return fmt.Errorf("fetch snapshot: %w", err)
		}
		resp := raw.(*kmsg.FetchSnapshotResponse)
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			return fmt.Errorf("fetch snapshot: %w", err)
		}
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			return fmt.Errorf("fetch snapshot: malformed response")
		}
		p := resp.Topics[0].Partitions[0]
		if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
			return fmt.Errorf("fetch snapshot at %d: %w", pos, err)
		}
		if p.Position != pos {
			return fmt.Errorf("fetch snapshot: asked for position %d, got %d", pos, p.Position)
		}
		if _, err := w.Write(p.Bytes); err != nil {
			return err
		}
		pos += int64(len(p.Bytes))
		if pos >= p.Size {
			return nil
		}
		if len(p.Bytes) == 0 {
			return fmt.Errorf("fetch snapshot: no progress at %d of %d", pos, p.Size)
		}
	}
}
