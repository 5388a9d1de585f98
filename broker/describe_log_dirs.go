package broker

import (
	"cmp"
	"path/filepath"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"golang.org/x/sys/unix"

	"spool/protocol"
)

// handleDescribeLogDirs reports, per log dir of this broker, the size of
// each hosted partition and (v4) the file system's total and usable bytes.
// Replicas here are never behind a leader on another dir, so the offset lag
// is 0 and nothing is a future replica.
func (b *Broker) handleDescribeLogDirs(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.DescribeLogDirsRequest)
	resp := r.ResponseKind().(*kmsg.DescribeLogDirsResponse)
	want := func(t tp) bool {
		if r.Topics == nil {
			return true
		}
		for _, rt := range r.Topics {
			if rt.Topic == t.topic && slices.Contains(rt.Partitions, t.partition) {
				return true
			}
		}
		return false
	}
	byDir := map[string][]*partition{}
	b.replicas.mu.RLock()
	for key, p := range b.replicas.parts {
		if want(key) {
			dir := filepath.Dir(p.log.Dir())
			byDir[dir] = append(byDir[dir], p)
		}
	}
	b.replicas.mu.RUnlock()
	for _, dir := range b.cfg.LogDirs {
		rd := kmsg.NewDescribeLogDirsResponseDir()
		rd.Dir = dir
		var st unix.Statfs_t
		if err := unix.Statfs(dir, &st); err != nil {
			rd.ErrorCode = kerr.KafkaStorageError.Code
		} else {
			rd.TotalBytes = int64(st.Blocks) * int64(st.Bsize)
			rd.UsableBytes = int64(st.Bavail) * int64(st.Bsize)
		}
		rd.Topics = logDirTopics(byDir[filepath.Clean(dir)])
		resp.Dirs = append(resp.Dirs, rd)
	}
	respond(protocol.Msg(resp))
}

// logDirTopics groups partitions by topic, in name and id order.
func logDirTopics(parts []*partition) []kmsg.DescribeLogDirsResponseDirTopic {
	slices.SortFunc(parts, func(a, b *partition) int {
		return cmp.Or(cmp.Compare(a.topic, b.topic), cmp.Compare(a.id, b.id))
	})
	var out []kmsg.DescribeLogDirsResponseDirTopic
	for _, p := range parts {
		if len(out) == 0 || out[len(out)-1].Topic != p.topic {
			t := kmsg.NewDescribeLogDirsResponseDirTopic()
			t.Topic = p.topic
			out = append(out, t)
		}
		rp := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
		rp.Partition, rp.Size = p.id, p.log.Size()
		t := &out[len(out)-1]
		t.Partitions = append(t.Partitions, rp)
	}
	return out
}
