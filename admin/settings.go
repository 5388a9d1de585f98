package admin

import (
	"crypto/tls"
	"fmt"
	"net"
	"strings"

	"spool/config"
	"spool/security"
)

// Auth is how HTTP clients authenticate.
type Auth string

const (
	AuthNone  Auth = "none"
	AuthBasic Auth = "basic" // a SCRAM user's name and password
	AuthMTLS  Auth = "mtls"  // a client certificate the truststore trusts
)

// Settings are the HTTP listener's configuration, checked.
type Settings struct {
	Addr   string // host:port; empty is off
	TLS    *tls.Config
	Auth   Auth
	Mapper *security.PrincipalMapper // certificate DN to principal (mTLS)
}

// Enabled reports whether the listener is on.
func (s Settings) Enabled() bool { return s.Addr != "" }

// LoadSettings reads http.* and the HTTP listener's ssl.* settings. It fails
// closed: basic auth without TLS, mTLS without a truststore, a keystore
// that does not load, and a listener reachable from the network without
// authentication on a node whose Kafka listeners require it are errors.
func LoadSettings(c *config.Config, listeners []config.Listener) (Settings, error) {
	s := Settings{Addr: strings.TrimSpace(c.Get("http.listener")), Auth: Auth(strings.ToLower(c.Get("http.authentication")))}
	if !s.Enabled() {
		return s, nil
	}
	protocol := strings.ToUpper(c.Get("http.listener.security.protocol"))
	if protocol != "SSL" && s.Auth != AuthNone {
		return s, fmt.Errorf("http.authentication=%s needs http.listener.security.protocol=SSL: credentials and client certificates are not sent in clear text", s.Auth)
	}
	if protocol == "SSL" {
		ts := security.ListenerTLSSettings(c, config.HTTPListenerName)
		switch s.Auth {
		case AuthMTLS:
			ts.ClientAuth = "required"
		default:
			ts.ClientAuth = "none"
		}
		var err error
		if s.TLS, _, err = security.ServerTLSConfig(ts); err != nil {
			return s, fmt.Errorf("http.listener (SSL): %w", err)
		}
		if s.Mapper, err = security.ParsePrincipalMappingRules(c.ListenerValue(config.HTTPListenerName, "ssl.principal.mapping.rules")); err != nil {
			return s, fmt.Errorf("http.listener: ssl.principal.mapping.rules: %w", err)
		}
	}
	if s.Auth == AuthNone && secured(listeners) && !loopback(s.Addr) {
		return s, fmt.Errorf("http.listener %s is reachable from the network without authentication while the Kafka listeners require it: set http.authentication (basic or mtls, with http.listener.security.protocol=SSL) or bind it to a loopback address", s.Addr)
	}
	return s, nil
}

// secured reports whether any Kafka listener uses TLS or SASL.
func secured(listeners []config.Listener) bool {
	for _, l := range listeners {
		if l.SecurityProtocol != "PLAINTEXT" {
			return true
		}
	}
	return false
}

// loopback reports whether addr binds only loopback interfaces.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
