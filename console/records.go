package console

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The browser's caps: records per answer, bytes shown of a key, value or
// header value, and bytes fetched per request. A page can never make the
// node read or send more than this per call.
const (
	defaultRecords = 20
	maxRecords     = 100
	maxFieldBytes  = 16 << 10
	maxFetchBytes  = 4 << 20
	browseTimeout  = 5 * time.Second
	browseIdle     = 300 * time.Millisecond
	maxBrowsers    = 2 // concurrent browse calls
)

type recordView struct {
	Offset    int64        `json:"offset"`
	Timestamp int64        `json:"timestamp"`
	Key       *shownBytes  `json:"key"`
	Value     *shownBytes  `json:"value"`
	Headers   []headerView `json:"headers"`
	Epoch     int32        `json:"leader_epoch"`
}

type headerView struct {
	Key   string      `json:"key"`
	Value *shownBytes `json:"value"`
}

type recordsView struct {
	Topic     string       `json:"topic"`
	Partition int32        `json:"partition"`
	LogStart  int64        `json:"log_start_offset"`
	HighWater int64        `json:"high_watermark"`
	From      int64        `json:"from_offset"`
	Records   []recordView `json:"records"`
}

// browseQuery is what the page asked for.
type browseQuery struct {
	offset    string // a number, "earliest" or "latest" (the last limit records)
	timestamp int64  // -1: by offset
	limit     int
}

func parseBrowse(r *http.Request) (browseQuery, error) {
	q := browseQuery{offset: r.URL.Query().Get("offset"), timestamp: -1, limit: defaultRecords}
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxRecords {
			return q, badRequest(fmt.Sprintf("limit must be a number from 1 to %d", maxRecords))
		}
		q.limit = n
	}
	if s := r.URL.Query().Get("timestamp"); s != "" {
		ts, err := strconv.ParseInt(s, 10, 64)
		if err != nil || ts < 0 {
			return q, badRequest("timestamp must be milliseconds since the epoch")
		}
		q.timestamp = ts
	}
	switch q.offset {
	case "", "latest", "earliest":
		if q.offset == "" {
			q.offset = "latest"
		}
	default:
		if n, err := strconv.ParseInt(q.offset, 10, 64); err != nil || n < 0 {
			return q, badRequest("offset must be a non-negative number, earliest or latest")
		}
	}
	return q, nil
}

// records answers GET /v1/topics/{topic}/partitions/{partition}/records:
// up to limit records from an offset or the first offset at or after a
// timestamp, read with a Kafka consumer like any other client.
func (c *Console) records(ctx context.Context, r *http.Request) (any, error) {
	topic, part, err := c.partitionOf(r)
	if err != nil {
		return nil, err
	}
	q, err := parseBrowse(r)
	if err != nil {
		return nil, err
	}
	if err := c.mustMay(ctx, r, kmsg.ACLOperationRead, kmsg.ACLResourceTypeTopic, topic); err != nil {
		return nil, err
	}
	select {
	case c.browsers <- struct{}{}:
		defer func() { <-c.browsers }()
	default:
		return nil, &apiError{http.StatusTooManyRequests, "the message browser is busy; try again"}
	}
	adm, err := c.admin()
	if err != nil {
		return nil, err
	}
	v := recordsView{Topic: topic, Partition: part, Records: []recordView{}}
	if v.LogStart, v.HighWater, err = c.bounds(ctx, topic, part); err != nil {
		return nil, err
	}
	switch {
	case q.timestamp >= 0:
		lo, err := adm.ListOffsetsAfterMilli(ctx, q.timestamp, topic)
		if err != nil {
			return nil, err
		}
		o, ok := lo.Lookup(topic, part)
		if !ok || o.Err != nil {
			return nil, fmt.Errorf("list offsets after %d: %v", q.timestamp, o.Err)
		}
		v.From = o.Offset
		if v.From < 0 {
			v.From = v.HighWater
		}
	case q.offset == "earliest":
		v.From = v.LogStart
	case q.offset == "latest":
		v.From = max(v.LogStart, v.HighWater-int64(q.limit))
	default:
		v.From, _ = strconv.ParseInt(q.offset, 10, 64)
		v.From = max(v.From, v.LogStart)
	}
	if v.From >= v.HighWater {
		return v, nil
	}
	v.Records, err = c.consume(ctx, topic, part, v.From, v.HighWater, q.limit)
	return v, err
}

// bounds returns a partition's log start offset and high watermark.
func (c *Console) bounds(ctx context.Context, topic string, part int32) (int64, int64, error) {
	adm, err := c.admin()
	if err != nil {
		return 0, 0, err
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return 0, 0, err
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, 0, err
	}
	s, _ := starts.Lookup(topic, part)
	e, _ := ends.Lookup(topic, part)
	if s.Err != nil || e.Err != nil {
		return 0, 0, fmt.Errorf("list offsets of %s-%d: %v", topic, part, firstErr(s.Err, e.Err))
	}
	return s.Offset, e.Offset, nil
}

// consume reads records from offset from up to the high watermark end
// with a short-lived consumer, stopping at limit records, at end, when
// the partition goes quiet, or at browseTimeout.
func (c *Console) consume(ctx context.Context, topic string, part int32, from, end int64, limit int) ([]recordView, error) {
	cl, err := c.src.NewClient(
		kgo.ClientID("spool-console-browser"),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {part: kgo.NewOffset().At(from)}}),
		kgo.FetchMaxBytes(maxFetchBytes), kgo.FetchMaxPartitionBytes(maxFetchBytes),
		kgo.FetchMaxWait(browseIdle), kgo.BrokerMaxReadBytes(2*maxFetchBytes),
	)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, browseTimeout)
	defer cancel()
	out := []recordView{}
	for len(out) < limit {
		pollCtx, stop := ctx, context.CancelFunc(func() {})
		if len(out) > 0 {
			// Past what was there: gaps (compaction, transaction markers)
			// can leave the last offsets below end with no record in them.
			pollCtx, stop = context.WithTimeout(ctx, browseIdle*3)
		}
		fs := cl.PollRecords(pollCtx, limit-len(out))
		quiet := pollCtx.Err() != nil
		stop()
		if err := fetchError(fs); err != nil {
			return out, err
		}
		for _, rec := range fs.Records() {
			if rec.Offset >= end || len(out) >= limit {
				return out, nil
			}
			out = append(out, viewOf(rec))
		}
		if quiet || (len(out) > 0 && out[len(out)-1].Offset >= end-1) {
			break
		}
	}
	return out, nil
}

// fetchError returns the first error a poll carried other than its
// context ending.
func fetchError(fs kgo.Fetches) error {
	for _, e := range fs.Errors() {
		if e.Err == context.DeadlineExceeded || e.Err == context.Canceled || e.Err == kgo.ErrClientClosed {
			continue
		}
		return fmt.Errorf("fetch %s-%d: %w", e.Topic, e.Partition, e.Err)
	}
	return nil
}

func viewOf(rec *kgo.Record) recordView {
	v := recordView{Offset: rec.Offset, Timestamp: rec.Timestamp.UnixMilli(), Epoch: rec.LeaderEpoch, Headers: []headerView{}}
	if rec.Key != nil {
		v.Key = show(rec.Key)
	}
	if rec.Value != nil {
		v.Value = show(rec.Value)
	}
	for _, h := range rec.Headers {
		v.Headers = append(v.Headers, headerView{Key: h.Key, Value: show(h.Value)})
	}
	return v
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
