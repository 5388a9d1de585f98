package main

import (
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// tieredDetail is a tiered partition's split between the tiers: the log
// start (remote when anything is), the local log start, the last offset
// in the remote tier (-1: none) and the local bytes.
type tieredDetail struct {
	Partition  int32 `json:"partition"`
	LogStart   int64 `json:"log_start_offset"`
	LocalStart int64 `json:"local_log_start_offset"`
	TieredEnd  int64 `json:"latest_tiered_offset"`
	LocalBytes int64 `json:"local_size_bytes"`
}

// isTiered reads remote.storage.enable from a topic's described configs.
func isTiered(key, value string) bool {
	return key == "remote.storage.enable" && strings.EqualFold(value, "true")
}

// addTiered asks the partitions' leaders for the earliest-local (-4) and
// latest-tiered (-5) offsets of the tiered topics (KIP-405, KIP-1005; any
// Kafka 3.9+ broker answers them). A failure leaves the section out.
func addTiered(s *session, out []topicDetail, tiered map[string]bool) {
	if len(tiered) == 0 {
		return
	}
	got := map[string]map[int32][2]int64{}
	for _, ts := range []int64{-4, -5} {
		req := kmsg.NewPtrListOffsetsRequest()
		req.Version, req.ReplicaID = 9, -1
		for _, td := range out {
			if !tiered[td.Topic] {
				continue
			}
			rt := kmsg.NewListOffsetsRequestTopic()
			rt.Topic = td.Topic
			for _, pd := range td.Partitions {
				rp := kmsg.NewListOffsetsRequestTopicPartition()
				rp.Partition, rp.Timestamp, rp.CurrentLeaderEpoch = pd.Partition, ts, -1
				rt.Partitions = append(rt.Partitions, rp)
			}
			req.Topics = append(req.Topics, rt)
		}
		resp, err := req.RequestWith(s.ctx, s.cl)
		if err != nil {
			return
		}
		for _, rt := range resp.Topics {
			if got[rt.Topic] == nil {
				got[rt.Topic] = map[int32][2]int64{}
			}
			for _, rp := range rt.Partitions {
				if rp.ErrorCode != 0 {
					continue
				}
				v := got[rt.Topic][rp.Partition]
				v[-ts-4] = rp.Offset
				got[rt.Topic][rp.Partition] = v
			}
		}
	}
	for i, td := range out {
		for _, pd := range td.Partitions {
			if v, ok := got[td.Topic][pd.Partition]; ok {
				out[i].Tiered = append(out[i].Tiered, tieredDetail{
					Partition: pd.Partition, LogStart: pd.LogStartOffset, LocalStart: v[0], TieredEnd: v[1], LocalBytes: pd.SizeBytes,
				})
			}
		}
	}
}

func printTiered(p *printer, rows []tieredDetail) {
	out := make([][]string, 0, len(rows))
	for _, d := range rows {
		remote := "-"
		if d.TieredEnd >= 0 && d.LogStart < d.LocalStart {
			remote = fmt.Sprintf("%d-%d", d.LogStart, d.TieredEnd)
		}
		out = append(out, []string{fmt.Sprint(d.Partition), remote, offsetText(d.LocalStart), sizeText(d.LocalBytes)})
	}
	fmt.Fprintln(p.w, "\nTIERED")
	p.table([]string{"PARTITION", "REMOTE-OFFSETS", "LOCAL-START", "LOCAL-SIZE"}, out)
}
