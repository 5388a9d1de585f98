package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/controller/metadata"
	"spool/security"
)

// Sources are the parts of the node the console reads; nil functions are
// roles the node does not play.
type Sources struct {
	ClusterID string
	NodeID    int32
	// Image is the node's current metadata image (the broker's, or the
	// controller's on a controller-only node).
	Image func() *metadata.Image
	// Quorum is the controller's own view of the raft quorum, on nodes
	// that are controllers; elsewhere the console asks DescribeQuorum.
	Quorum func() (Quorum, error)
	// Traffic is this broker's produced and fetched byte and record
	// totals since start; nil on a controller-only node.
	Traffic func() Traffic
	// NewClient makes a Kafka client to the cluster with the node's own
	// inter-broker security, plus opts; nil when the node has no broker.
	NewClient func(opts ...kgo.Opt) (*kgo.Client, error)
	// ReadOnly refuses every change (http.console.read.only).
	ReadOnly bool
	// Unauthenticated is set when the HTTP listener asks for no
	// credentials; changes are then accepted only for a Host header that
	// names the node directly (an IP address, localhost or one of
	// KnownHosts), so a page on another site cannot reach them through a
	// DNS name it rebinds to the node's address.
	Unauthenticated bool
	KnownHosts      []string
	// Authorize decides a Kafka action for the HTTP user as the Kafka API
	// would; nil allows everything (no authorizer configured).
	Authorize func(p security.Principal, host string, op kmsg.ACLOperation, rt kmsg.ACLResourceType, name string) bool
}

// Console serves the pages and the JSON API.
type Console struct {
	src    Sources
	log    *zap.Logger
	mux    *http.ServeMux
	meter  *meter
	mu     sync.Mutex
	client *kgo.Client // shared admin client, made on first use
	// browsers bounds concurrent message browser calls, each of which
	// runs a consumer.
	browsers chan struct{}
	lags     *lagHistory
	now      func() time.Time
}

// requestTimeout bounds every API call's Kafka requests, so a stuck
// cluster gives the page an error instead of a hung request.
const requestTimeout = 10 * time.Second

// New returns the console over src.
func New(src Sources, log *zap.Logger) *Console {
	c := &Console{src: src, log: log.Named("console"), mux: http.NewServeMux(), meter: newMeter(src.Traffic, time.Now), browsers: make(chan struct{}, maxBrowsers), lags: newLagHistory(), now: time.Now}
	c.mux.Handle("GET /", assets())
	c.api("GET /v1/cluster", c.cluster)
	c.api("GET /v1/throughput", c.throughput)
	c.api("GET /v1/topics", c.topics)
	c.api("GET /v1/topics/{topic}", c.topic)
	c.api("GET /v1/topics/{topic}/partitions/{partition}/records", c.records)
	c.api("GET /v1/topics/{topic}/partitions/{partition}/producers", c.producers)
	c.api("GET /v1/groups", c.groups)
	c.api("GET /v1/groups/{group}", c.group)
	c.api("GET /v1/transactions", c.transactions)
	c.api("GET /v1/transactions/open", c.openTransactions)
	c.api("GET /v1/acls", c.acls)
	c.api("GET /v1/quotas", c.quotas)
	c.api("GET /v1/console", c.session)
	c.write("POST /v1/topics", c.createTopic)
	c.write("DELETE /v1/topics/{topic}", c.deleteTopic)
	c.write("PUT /v1/topics/{topic}/configs", c.alterConfigs)
	c.write("POST /v1/topics/{topic}/partitions/{partition}/delete-records", c.deleteRecords)
	c.write("POST /v1/groups/{group}/offsets", c.resetOffsets)
	c.api("GET /v1/", func(context.Context, *http.Request) (any, error) { return nil, notFound("no such endpoint") })
	return c
}

// ServeHTTP implements http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.mux.ServeHTTP(w, r) }

// Close closes the shared client.
func (c *Console) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil {
		c.client.Close()
		c.client = nil
	}
}

// apiError is an answer other than 200, with the status to send.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func notFound(msg string) error   { return &apiError{http.StatusNotFound, msg} }
func badRequest(msg string) error { return &apiError{http.StatusBadRequest, msg} }

// errNoBroker answers what needs the Kafka API on a controller-only node.
var errNoBroker = &apiError{http.StatusServiceUnavailable, "this node is not a broker: open the console of a broker for this page"}

// api registers a JSON endpoint.
func (c *Console) api(pattern string, h func(ctx context.Context, r *http.Request) (any, error)) {
	c.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		out, err := h(ctx, r)
		if err != nil {
			status := http.StatusBadGateway // the cluster failed to answer
			var ae *apiError
			if errors.As(err, &ae) {
				status = ae.status
			}
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		if err := json.NewEncoder(w).Encode(out); err != nil {
			c.log.Debug("write console answer", zap.Error(err))
		}
	})
}

// admin returns an admin client over the shared client.
func (c *Console) admin() (*kadm.Client, error) {
	_, adm, err := c.clients()
	return adm, err
}

// clients returns the shared client, made on first use, and an admin
// client over it.
func (c *Console) clients() (*kgo.Client, *kadm.Client, error) {
	if c.src.NewClient == nil {
		return nil, nil, errNoBroker
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == nil {
		cl, err := c.src.NewClient(kgo.ClientID("spool-console"))
		if err != nil {
			return nil, nil, err
		}
		c.client = cl
	}
	return c.client, kadm.NewClient(c.client), nil
}

// image returns the node's image, never nil.
func (c *Console) image() *metadata.Image {
	if c.src.Image != nil {
		if img := c.src.Image(); img != nil {
			return img
		}
	}
	return metadata.Empty()
}

// partitionOf reads {topic} and {partition} and checks the image has them.
func (c *Console) partitionOf(r *http.Request) (string, int32, error) {
	topic := r.PathValue("topic")
	p, err := strconv.ParseInt(r.PathValue("partition"), 10, 32)
	if err != nil {
		return "", 0, badRequest("partition must be a number")
	}
	t := c.image().Topics.ByName(topic)
	if t == nil {
		return "", 0, notFound("unknown topic " + topic)
	}
	if t.Partition(int32(p)) == nil {
		return "", 0, notFound(fmt.Sprintf("topic %s has no partition %d", topic, p))
	}
	return topic, int32(p), nil
}
