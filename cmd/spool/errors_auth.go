package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
)

// secured is what --command-config asked for, to name it when the
// listener refuses it.
type secured struct {
	file      string // --command-config; "" for none
	protocol  string // security.protocol
	mechanism string // sasl.mechanism
}

// where names the settings to check: the properties file, or the flag to
// add when there is none.
func (s secured) where(keys string) string {
	if s.file == "" {
		return "pass --command-config with " + keys
	}
	return "check " + keys + " in " + s.file
}

// authFailure explains a refused login or TLS handshake with the broker's
// own words, or returns nil when err is neither. The cluster was reached:
// these must never read as "cannot reach".
func authFailure(at string, err error, s secured) error {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		switch ke {
		case kerr.SaslAuthenticationFailed:
			return fmt.Errorf("authentication failed at %s (SASL_AUTHENTICATION_FAILED): %s (%s)", at, brokerMessage(err, ke), s.where("sasl.mechanism and sasl.jaas.config"))
		case kerr.UnsupportedSaslMechanism:
			return fmt.Errorf("%s does not enable SASL mechanism %s on this listener (UNSUPPORTED_SASL_MECHANISM; %s)", at, s.mechanism, s.where("sasl.mechanism"))
		case kerr.IllegalSaslState:
			return fmt.Errorf("%s does not take SASL on this listener (ILLEGAL_SASL_STATE: %s; %s)", at, brokerMessage(err, ke), s.where("security.protocol"))
		}
		return nil
	}
	return tlsFailure(at, err, s)
}

// tlsFailure explains a TLS handshake that failed on either side.
func tlsFailure(at string, err error, s secured) error {
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
		header    tls.RecordHeaderError
		alert     tls.AlertError
	)
	switch {
	case errors.As(err, &unknownCA):
		return fmt.Errorf("TLS handshake with %s failed: its certificate is signed by an authority this client does not trust (%s)", at, s.where("ssl.truststore.location"))
	case errors.As(err, &hostname):
		return fmt.Errorf("TLS handshake with %s failed: %v (%s)", at, hostname.Error(), s.where("the address, or ssl.endpoint.identification.algorithm"))
	case errors.As(err, &invalid):
		return fmt.Errorf("TLS handshake with %s failed: %v", at, invalid.Error())
	case errors.As(err, &verify):
		return fmt.Errorf("TLS handshake with %s failed: %v (%s)", at, verify.Err, s.where("ssl.truststore.location"))
	case errors.As(err, &header):
		return fmt.Errorf("%s does not answer TLS: is it a plaintext listener? (%s)", at, s.where("security.protocol"))
	case errors.As(err, &alert):
		return fmt.Errorf("%s refused the TLS handshake: %v (%s)", at, alert.Error(), s.where("ssl.keystore.location, the certificate this client presents,"))
	}
	return nil
}

// brokerMessage is the broker's error message that kgo appends to the
// error code ("SASL_AUTHENTICATION_FAILED: ...: <message>"), or the
// code's description when the broker sent none.
func brokerMessage(err error, ke *kerr.Error) string {
	s := err.Error()
	if i := strings.Index(s, ke.Error()+": "); i >= 0 {
		if m := strings.TrimSpace(s[i+len(ke.Error())+2:]); m != "" {
			return m
		}
	}
	return ke.Description
}
