package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// HTTPListenerName is the listener name the operator HTTP listener's TLS
// settings may be prefixed with: listener.name.http.ssl.keystore.location,
// falling back to the broker-wide ssl.* keys as Kafka's listeners do.
const HTTPListenerName = "HTTP"

// httpDefs configure the operator HTTP listener (/metrics, /healthz,
// /readyz). They are Spool's own: Kafka exposes JMX instead.
var httpDefs = []Def{
	def("http.listener", TypeString, "", "host:port of the operator HTTP listener (/metrics, /healthz, /readyz); empty turns it off. `spool server` without --config serves it on localhost:9644.").noDefault().rule(hostPortOrEmpty),
	def("http.listener.security.protocol", TypeString, "PLAINTEXT", "PLAINTEXT or SSL (HTTPS, with listener.name.http.ssl.* or the broker's ssl.* keys).").rule(oneOf("PLAINTEXT", "SSL")),
	def("http.console.read.only", TypeBoolean, "true", "With false, the web console on the HTTP listener may create and delete topics, alter topic configs, delete records and reset a group's offsets, each authorized for the HTTP user (the basic-auth user or the certificate's principal, ANONYMOUS without authentication) as the Kafka API authorizes it."),
	def("http.authentication", TypeString, "none", "How HTTP clients authenticate: none, basic (a SCRAM user's name and password, over SSL only) or mtls (a client certificate the truststore trusts, over SSL). /healthz and /readyz never ask, so probes need no credentials.").rule(oneOf("none", "basic", "mtls")),
}

func hostPortOrEmpty(v string) error {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("must be host:port: %v", err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("invalid port %q", port)
	}
	return nil
}
