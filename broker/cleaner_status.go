package broker

import (
	"cmp"
	"encoding/json"
	"slices"

	"go.uber.org/zap"

	"spool/protocol"
)

// handleCleanerStatus answers Spool's private CleanerStatusKey with the
// cleaner's view of each compacted partition this broker leads, so the
// admin CLI can show it. Only leaders answer: followers' logs are cleaned
// too, but asking each partition's leader gives one row per partition.
// A body that is not JSON closes the connection, as an unparseable Kafka
// request does.
func (b *Broker) handleCleanerStatus(req *protocol.Request, respond func(protocol.Response)) {
	var r protocol.CleanerStatusRequest
	if len(req.Body) > 0 {
		if err := json.Unmarshal(req.Body, &r); err != nil {
			b.log.Info("unparseable cleaner status request; closing connection", zap.Error(err), zap.Stringer("remote", req.Remote))
			respond(protocol.CloseConn)
			return
		}
	}
	body, err := json.Marshal(b.cleanerStatus(r.Topics))
	if err != nil {
		b.log.Error("encode cleaner status", zap.Error(err))
		respond(protocol.CloseConn)
		return
	}
	respond(protocol.Response{Raw: body})
}

// cleanerStatus lists the compacted partitions this broker leads, of the
// given topics or of all, by topic and partition.
func (b *Broker) cleanerStatus(topics []string) []protocol.CleanerStatus {
	out := []protocol.CleanerStatus{}
	for _, p := range b.hostedPartitions() {
		if len(topics) > 0 && !slices.Contains(topics, p.topic) {
			continue
		}
		if leader, _ := p.leadership(); !leader || !p.log.Config().Compact {
			continue
		}
		st := p.log.CleanerStatsBelow(p.lastStableOffset())
		out = append(out, protocol.CleanerStatus{
			Topic: p.topic, Partition: p.id, DirtyRatio: st.DirtyRatio, FirstDirtyOffset: st.FirstDirtyOffset,
			LastCleanMs: st.LastCleanMs, LogBytes: p.log.Size(), Cleanable: st.Cleanable(),
		})
	}
	slices.SortFunc(out, func(a, b protocol.CleanerStatus) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	return out
}
