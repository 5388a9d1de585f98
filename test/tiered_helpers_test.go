package test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// fakeS3 is a real S3 HTTP server (gofakes3, in memory) on an ephemeral
// loopback port, with a switch that makes it answer every request 503 as
// an unavailable store does.
type fakeS3 struct {
	srv     *httptest.Server
	backend *s3mem.Backend
	bucket  string
	down    atomic.Bool
}

func newFakeS3(t *testing.T) *fakeS3 {
	t.Helper()
	f := &fakeS3{backend: s3mem.New(), bucket: "spool-tiered"}
	if err := f.backend.CreateBucket(f.bucket); err != nil {
		t.Fatal(err)
	}
	h := gofakes3.New(f.backend).Server()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.down.Load() {
			http.Error(w, "<Error><Code>ServiceUnavailable</Code></Error>", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// props are the broker settings that point tiered storage at the server.
func (f *fakeS3) props(extra map[string]string) map[string]string {
	p := map[string]string{
		"remote.log.storage.system.enable":                "true",
		"remote.log.manager.task.interval.ms":             "300",
		"rsm.config.storage.s3.bucket.name":               f.bucket,
		"rsm.config.storage.s3.endpoint.url":              f.srv.URL,
		"rsm.config.storage.s3.region":                    "us-east-1",
		"rsm.config.storage.s3.path.style.access.enabled": "true",
		"rsm.config.storage.aws.access.key.id":            "spool",
		"rsm.config.storage.aws.secret.access.key":        "spool-secret",
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
func (f *fakeS3) keys(t *testing.T, suffix string) []string {
	t.Helper()
	list, err := f.backend.ListBucket(f.bucket, &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range list.Contents {
		if strings.HasSuffix(o.Key, suffix) {
			out = append(out, o.Key)
		}
	}
	sort.Strings(out)
	return out
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
