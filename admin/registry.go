package admin

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"spool/broker"
	"spool/controller"
	"spool/protocol"
)

// Sources are the parts of a node the metrics read; nil parts are roles the
// node does not play.
type Sources struct {
	Broker     *broker.Broker
	Controller *controller.Controller
	// Servers are the Kafka-protocol servers by name ("broker",
	// "controller").
	Servers []NamedServer
}

// NamedServer is a protocol server and what it serves.
type NamedServer struct {
	Name   string
	Server *protocol.Server
}

// NewRegistry returns the process's one registry: the Go runtime and
// process collectors and Spool's own, which read src at scrape time.
func NewRegistry(src Sources) *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	r.MustRegister(&netCollector{src: src})
	if src.Broker != nil {
		r.MustRegister(&brokerCollector{b: src.Broker})
	}
	if src.Controller != nil {
		r.MustRegister(&controllerCollector{c: src.Controller})
	}
	return r
}

// family is one metric family's description.
type family struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
}

func counter(name, help string, labels ...string) family {
	return family{prometheus.NewDesc(name, help, labels, nil), prometheus.CounterValue}
}

func gauge(name, help string, labels ...string) family {
	return family{prometheus.NewDesc(name, help, labels, nil), prometheus.GaugeValue}
}

func histogram(name, help string, labels ...string) family {
	return family{desc: prometheus.NewDesc(name, help, labels, nil)}
}

// emit sends one sample of f.
func (f family) emit(ch chan<- prometheus.Metric, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(f.desc, f.typ, v, labels...)
}

func describe(ch chan<- *prometheus.Desc, fams []family) {
	for _, f := range fams {
		ch <- f.desc
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
