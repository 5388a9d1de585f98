package test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
	"spool/test/s3server"
)

// s3Store is the S3-compatible server (versitygw) a tiered test starts,
// with the broker settings that point tiered storage at it.
type s3Store struct {
	*s3server.Server
}

func newS3Store(t *testing.T) *s3Store {
	t.Helper()
	return &s3Store{s3server.Start(t, "spool-tiered")}
}

// props are the broker settings that point tiered storage at the server.
func (f *s3Store) props(extra map[string]string) map[string]string {
	p := map[string]string{
		"remote.log.storage.system.enable":                "true",
		"remote.log.manager.task.interval.ms":             "300",
		"rsm.config.storage.s3.bucket.name":               f.Bucket,
		"rsm.config.storage.s3.endpoint.url":              f.URL,
		"rsm.config.storage.s3.region":                    s3server.Region,
		"rsm.config.storage.s3.path.style.access.enabled": "true",
		"rsm.config.storage.aws.access.key.id":            s3server.AccessKey,
		"rsm.config.storage.aws.secret.access.key":        s3server.SecretKey,
		"rsm.config.storage.s3.api.call.timeout":          "3000",
		"rsm.config.key.prefix":                           "tier/",
		"rsm.config.fetch.chunk.size":                     "65536",
	}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

// keys lists the bucket's object keys ending in suffix.
func (f *s3Store) keys(t *testing.T, suffix string) []string {
	t.Helper()
	return f.Keys(t, suffix)
}

// localSegments counts the .log files of a partition on disk.
func localSegments(t *testing.T, n *harness.Node, topic string, p int) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(n.Dir, fmt.Sprintf("%s-%d", topic, p), "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

// listOffset asks the broker for one special offset of partition 0.
func listSpecialOffset(t *testing.T, addr, topic string, ts int64) (int64, int16) {
	t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	req.Version = 11
	req.ReplicaID = -1
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Timestamp, rp.CurrentLeaderEpoch = ts, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := harness.Request(addr, req, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	sp := resp.(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0]
	return sp.Offset, sp.ErrorCode
}

// fetchAt sends one Fetch of partition 0 at offset and returns its error
// code and record bytes.
func fetchAt(t *testing.T, addr, topic string, offset int64, timeout time.Duration) (int16, int, error) {
	t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.Version = 12
	req.ReplicaID, req.MaxWaitMillis, req.MinBytes, req.MaxBytes = -1, 100, 1, 1<<20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch, rp.LogStartOffset = offset, 1<<20, -1, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := harness.Request(addr, req, timeout)
	if err != nil {
		return 0, 0, err
	}
	sp := resp.(*kmsg.FetchResponse).Topics[0].Partitions[0]
	return sp.ErrorCode, len(sp.RecordBatches), nil
}

func waitTiered(t *testing.T, what string, d time.Duration, n *harness.Node, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v\n%s", what, d, n.Output())
		}
		time.Sleep(200 * time.Millisecond)
	}
}
