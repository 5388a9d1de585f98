package main

import (
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/scram"

	"spool/test/clients/internal/spec"
)

// kafka-go takes its security settings twice: a Transport for the Client
// and the Writer, a Dialer for the Reader and Conn.

func mechanism(s spec.Security) sasl.Mechanism {
	if !s.SASL() {
		return nil
	}
	algo := scram.SHA512
	switch s.Mechanism {
	case "SCRAM-SHA-512":
	case "SCRAM-SHA-256":
		algo = scram.SHA256
	default:
		spec.Fail("kafka-go runner: no SASL mechanism %q", s.Mechanism)
	}
	m, err := scram.Mechanism(algo, s.User, s.Password)
	spec.Check(err, "scram mechanism")
	return m
}

// transport is nil (kafka-go's default) on PLAINTEXT.
func transport(s spec.Security) kafka.RoundTripper {
	if !s.TLS() && !s.SASL() {
		return nil
	}
	t := &kafka.Transport{SASL: mechanism(s)}
	if s.TLS() {
		t.TLS = s.TLSConfig()
	}
	return t
}

func dialer(s spec.Security) *kafka.Dialer {
	d := &kafka.Dialer{Timeout: 10 * time.Second, DualStack: true, SASLMechanism: mechanism(s)}
	if s.TLS() {
		d.TLS = s.TLSConfig()
	}
	return d
}
