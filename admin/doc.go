// Package admin is the operator HTTP listener (http.listener): /metrics in
// the Prometheus text format, /healthz and /readyz for probes, and
// /v1/loggers to read and change log levels at run time.
//
// It owns the one Prometheus registry of the process and the collectors
// that read the broker's, the controller's and the network servers'
// counters at scrape time; the request paths only ever add to atomics and
// never see Prometheus. It imports broker, controller, protocol, security
// and config, and nothing imports it but cmd/spool.
package admin
