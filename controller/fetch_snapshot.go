package controller

import (
	"io"
	"os"
	"path/filepath"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/protocol"
)

// maxSnapshotChunk caps the bytes one FetchSnapshot answer carries.
const maxSnapshotChunk = 4 << 20

// serveFetchSnapshot streams a snapshot file in chunks to a broker or a
// lagging controller.
func (c *Controller) serveFetchSnapshot(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.FetchSnapshotRequest)
	resp := r.ResponseKind().(*kmsg.FetchSnapshotResponse)
	for _, t := range r.Topics {
		rt := kmsg.NewFetchSnapshotResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewFetchSnapshotResponseTopicPartition()
			rp.Partition, rp.SnapshotID.EndOffset, rp.SnapshotID.Epoch = p.Partition, p.SnapshotID.EndOffset, p.SnapshotID.Epoch
			rp.CurrentLeader.LeaderID, rp.CurrentLeader.LeaderEpoch = c.LeaderID(), c.Epoch()
			if t.Topic != MetadataTopic || p.Partition != 0 {
				rp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			} else {
				id := metadata.SnapshotID{EndOffset: p.SnapshotID.EndOffset, Epoch: p.SnapshotID.Epoch}
				c.readSnapshotChunk(id, p.Position, int(min(max(r.MaxBytes, 1), maxSnapshotChunk)), &rp)
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	respond(protocol.Msg(resp))
}

func (c *Controller) readSnapshotChunk(id metadata.SnapshotID, pos int64, max int, rp *kmsg.FetchSnapshotResponseTopicPartition) {
	f, err := os.Open(filepath.Join(c.store.dir, id.FileName()))
	if err != nil {
		rp.ErrorCode = kerr.SnapshotNotFound.Code
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		rp.ErrorCode = kerr.KafkaStorageError.Code
		return
	}
	rp.Size, rp.Position = st.Size(), pos
	if pos < 0 || pos > st.Size() {
		rp.ErrorCode = kerr.PositionOutOfRange.Code
		return
	}
	buf := make([]byte, min(int64(max), st.Size()-pos))
	if _, err := f.ReadAt(buf, pos); err != nil && err != io.EOF {
		rp.ErrorCode = kerr.KafkaStorageError.Code
		return
	}
	rp.Bytes = buf
}
