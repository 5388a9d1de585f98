package admin

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// netCollector exports the Kafka-protocol servers' counters: requests per
// listener and API, connections, the request queue and response bytes.
type netCollector struct{ src Sources }

var (
	requestsTotal    = counter("spool_requests_total", "Requests answered, by listener and API (Kafka's RequestsPerSec).", "listener", "api")
	requestErrors    = counter("spool_request_errors_total", "Requests answered with a top-level error code or by closing the connection, by listener and API (partition-level errors are in spool_topic_failed_*_requests_total).", "listener", "api")
	requestDuration  = histogram("spool_request_duration_seconds", "Time from reading a request to writing its response, by listener and API (Kafka's TotalTimeMs).", "listener", "api")
	connections      = gauge("spool_connections", "Open connections, by listener (Kafka's connection-count).", "listener")
	connectionEvents = counter("spool_connection_events_total", "Connections accepted, refused over a limit, closed idle or slow; accept errors survived; bad frames; failed TLS handshakes and authentications; quota mutes (KIP-219), connections held and closed over connection_creation_rate, accepts delayed by max.connection.creation.rate.", "server", "event")
	responseBytes    = counter("spool_response_bytes_total", "Response bytes by how they left the process: sendfile (file regions sent by the kernel), copied (file regions read and written), written (encoded bytes).", "server", "path")
	queueRequests    = gauge("spool_request_queue_requests", "Requests read and not yet answered (Kafka's RequestQueueSize).", "server")
	queueBytes       = gauge("spool_request_queue_bytes", "Bytes of request frames read and not yet answered; connections stop reading at spool_request_queue_limit_bytes.", "server")
	queueLimit       = gauge("spool_request_queue_limit_bytes", "queued.max.request.bytes in effect.", "server")
)

var netFamilies = []family{requestsTotal, requestErrors, requestDuration, connections, connectionEvents, responseBytes, queueRequests, queueBytes, queueLimit}

func (c *netCollector) Describe(ch chan<- *prometheus.Desc) { describe(ch, netFamilies) }

func (c *netCollector) Collect(ch chan<- prometheus.Metric) {
	for _, ns := range c.src.Servers {
		s := ns.Server
		if s == nil {
			continue
		}
		if s.Requests != nil {
			for _, l := range s.Requests.Listeners() {
				collectRequests(ch, l)
			}
		}
		for l, n := range s.Connections() {
			connections.emit(ch, float64(n), l)
		}
		if st := s.Stats; st != nil {
			collectConnEvents(ch, ns.Name, st)
			responseBytes.emit(ch, float64(st.SendfileBytes.Load()), ns.Name, "sendfile")
			responseBytes.emit(ch, float64(st.CopiedBytes.Load()), ns.Name, "copied")
			responseBytes.emit(ch, float64(st.WrittenBytes.Load()), ns.Name, "written")
		}
		reqs, bytes, limit := s.Queue()
		queueRequests.emit(ch, float64(reqs), ns.Name)
		queueBytes.emit(ch, float64(bytes), ns.Name)
		queueLimit.emit(ch, float64(limit), ns.Name)
	}
}

func collectRequests(ch chan<- prometheus.Metric, l *protocol.ListenerRequests) {
	for _, a := range l.Snapshot() {
		api := apiName(a.Key)
		requestsTotal.emit(ch, float64(a.Count), l.Listener, api)
		requestErrors.emit(ch, float64(a.Errors), l.Listener, api)
		ch <- prometheus.MustNewConstHistogram(requestDuration.desc, a.Count, a.Sum, a.Buckets, l.Listener, api)
	}
}

func collectConnEvents(ch chan<- prometheus.Metric, server string, st *protocol.Stats) {
	for _, e := range []struct {
		name string
		v    int64
	}{
		{"accepted", st.ConnectionsAccepted.Load()}, {"rejected", st.ConnectionsRejected.Load()},
		{"idle_closed", st.IdleClosed.Load()}, {"slow_closed", st.SlowClosed.Load()},
		{"accept_errors", st.AcceptErrors.Load()}, {"bad_frames", st.BadFrames.Load()},
		{"tls_failed", st.TLSFailed.Load()}, {"auth_failed", st.AuthFailed.Load()},
		{"quota_muted", st.ThrottleMutes.Load()}, {"quota_throttled", st.ConnectionsThrottled.Load()},
		{"accept_throttled", st.AcceptThrottled.Load()},
	} {
		connectionEvents.emit(ch, float64(e.v), server, e.name)
	}
}

// apiName is Kafka's name for an API key; Spool's private keys have their own.
func apiName(key int16) string {
	switch key {
	case protocol.RaftMessageKey:
		return "SpoolRaftMessage"
	case protocol.CleanerStatusKey:
		return "SpoolCleanerStatus"
	}
	if n := kmsg.NameForKey(key); n != "" {
		return n
	}
	return "Unknown"
}
