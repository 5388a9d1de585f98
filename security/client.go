package security

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"spool/config"
)

// ClientConfig is how to reach a Kafka listener as a client: Kafka's
// security.protocol, ssl.* and sasl.mechanism/sasl.jaas.config.
type ClientConfig struct {
	Protocol  string
	TLS       TLSSettings
	Mechanism string
	Login     *LoginModule
	// Token is a fixed OAUTHBEARER token (Spool's CLI option
	// sasl.oauthbearer.token); Kafka's clients fetch one instead.
	Token string
}

// clientKeys are the client properties Spool's tools and outbound
// connections understand, with their Kafka defaults.
var clientKeys = map[string]string{
	"security.protocol": "PLAINTEXT", "sasl.mechanism": "GSSAPI", "sasl.jaas.config": "",
	"ssl.keystore.type": "JKS", "ssl.keystore.location": "", "ssl.keystore.password": "", "ssl.key.password": "",
	"ssl.keystore.certificate.chain": "", "ssl.keystore.key": "",
	"ssl.truststore.type": "JKS", "ssl.truststore.location": "", "ssl.truststore.password": "", "ssl.truststore.certificates": "",
	"ssl.protocol": "TLSv1.3", "ssl.enabled.protocols": "TLSv1.2,TLSv1.3", "ssl.cipher.suites": "",
	"ssl.endpoint.identification.algorithm": "https", "sasl.oauthbearer.token": "",
}

// IsClientSecurityKey reports whether a client property is one
// ParseClientProperties reads.
func IsClientSecurityKey(k string) bool { _, ok := clientKeys[k]; return ok }

// ParseClientProperties reads the security properties of a client
// properties file (--command-config). Keys it does not know are the
// caller's; an unknown ssl.* or sasl.* key is an error, never ignored.
func ParseClientProperties(props map[string]string) (ClientConfig, error) {
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := clientKeys[k]; !ok && (strings.HasPrefix(k, "ssl.") || strings.HasPrefix(k, "sasl.")) {
			return ClientConfig{}, fmt.Errorf("%s is not supported", k)
		}
	}
	get := func(k string) string {
		if v, ok := props[k]; ok {
			return strings.TrimSpace(v)
		}
		return clientKeys[k]
	}
	return newClientConfig(get, strings.ToUpper(get("security.protocol")), strings.ToUpper(get("sasl.mechanism")), get("sasl.jaas.config"))
}

func newClientConfig(get func(string) string, protocol, mech, jaas string) (ClientConfig, error) {
	cc := ClientConfig{Protocol: protocol, Token: get("sasl.oauthbearer.token")}
	switch protocol {
	case "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL":
	default:
		return cc, fmt.Errorf("security.protocol=%s: want PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL", protocol)
	}
	cc.TLS = TLSSettings{
		Keystore: StoreSpec{Type: get("ssl.keystore.type"), Location: get("ssl.keystore.location"), Password: get("ssl.keystore.password"),
			KeyPassword: get("ssl.key.password"), Inline: get("ssl.keystore.certificate.chain"), InlineKey: get("ssl.keystore.key")},
		Truststore: StoreSpec{Type: get("ssl.truststore.type"), Location: get("ssl.truststore.location"), Password: get("ssl.truststore.password"),
			Inline: get("ssl.truststore.certificates")},
		Protocol: get("ssl.protocol"), Protocols: config.SplitList(get("ssl.enabled.protocols")),
		CipherSuites:           config.SplitList(get("ssl.cipher.suites")),
		EndpointIdentification: strings.EqualFold(get("ssl.endpoint.identification.algorithm"), "https"),
	}
	if !UsesSASL(protocol) {
		return cc, nil
	}
	cc.Mechanism = mech
	if jaas != "" {
		m, err := ParseJAAS(jaas)
		if err != nil {
			return cc, fmt.Errorf("sasl.jaas.config: %w", err)
		}
		cc.Login = &m
	}
	_, err := cc.SASL()
	return cc, err
}

// SASL is the client mechanism, nil for protocols without SASL.
func (cc ClientConfig) SASL() (sasl.Mechanism, error) {
	if !UsesSASL(cc.Protocol) {
		return nil, nil
	}
	opt := func(k string) string {
		if cc.Login == nil {
			return ""
		}
		return cc.Login.Options[k]
	}
	need := func(module string) error {
		if cc.Login == nil || cc.Login.Name != module {
			return fmt.Errorf("sasl.mechanism=%s needs sasl.jaas.config with %s", cc.Mechanism, module)
		}
		if opt("username") == "" || opt("password") == "" {
			return fmt.Errorf("sasl.jaas.config for %s needs username and password options", cc.Mechanism)
		}
		return nil
	}
	switch cc.Mechanism {
	case MechPlain:
		if err := need(PlainLoginModule); err != nil {
			return nil, err
		}
		return plain.Auth{User: opt("username"), Pass: opt("password")}.AsMechanism(), nil
	case MechScramSHA256, MechScramSHA512:
		if err := need(ScramLoginModule); err != nil {
			return nil, err
		}
		a := scram.Auth{User: opt("username"), Pass: opt("password")}
		if cc.Mechanism == MechScramSHA256 {
			return a.AsSha256Mechanism(), nil
		}
		return a.AsSha512Mechanism(), nil
	case MechOAuthBearer:
		if cc.Token == "" {
			return nil, fmt.Errorf("sasl.mechanism=OAUTHBEARER needs sasl.oauthbearer.token (a token from your identity provider)")
		}
		return oauth.Auth{Token: cc.Token}.AsMechanism(), nil
	case "GSSAPI":
		return nil, fmt.Errorf("sasl.mechanism=GSSAPI (Kerberos) is not supported; set sasl.mechanism")
	}
	return nil, fmt.Errorf("sasl.mechanism=%s is not supported (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER)", cc.Mechanism)
}

// TLSConfig is the TLS configuration for connecting to host, nil for
// protocols without TLS.
func (cc ClientConfig) TLSConfig(host string) (*tls.Config, error) {
	if !UsesTLS(cc.Protocol) {
		return nil, nil
	}
	return ClientTLSConfig(cc.TLS, host)
}

// OutboundConfig is how this node connects to a listener of other nodes:
// the listener's own ssl.* settings (listener.name.<l>.* first) and, for
// SASL, mechanism with the username and password options of the
// listener's JAAS config for that mechanism, as Kafka's inter-broker and
// controller clients do.
func OutboundConfig(c *config.Config, l config.Listener, mech string) (ClientConfig, error) {
	get := func(k string) string {
		if k == "sasl.oauthbearer.token" {
			return ""
		}
		return c.ListenerValue(l.Name, k)
	}
	var jaas string
	if UsesSASL(l.SecurityProtocol) {
		if mech == "OAUTHBEARER" {
			return ClientConfig{}, fmt.Errorf("listener %s: OAUTHBEARER between Spool nodes is not supported; use SCRAM, PLAIN or mTLS", l.Name)
		}
		jaas = c.MechanismValue(l.Name, mech, "sasl.jaas.config")
	}
	cc, err := newClientConfig(get, l.SecurityProtocol, mech, jaas)
	if err != nil {
		return cc, fmt.Errorf("connecting to listener %s: %w", l.Name, err)
	}
	return cc, nil
}

// Dialer returns a dial function for Spool-to-Spool connections: TCP, the
// TLS handshake, then SaslHandshake and SaslAuthenticate, so the caller
// gets a connection ready for requests.
func (cc ClientConfig) Dialer(clientID string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		host, _, _ := net.SplitHostPort(addr)
		if UsesTLS(cc.Protocol) {
			cfg, err := cc.TLSConfig(host)
			if err != nil {
				nc.Close()
				return nil, err
			}
			tc := tls.Client(nc, cfg)
			if err := tc.HandshakeContext(ctx); err != nil {
				nc.Close()
				return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
			}
			nc = tc
		}
		if !UsesSASL(cc.Protocol) {
			return nc, nil
		}
		mech, err := cc.SASL()
		if err != nil {
			nc.Close()
			return nil, err
		}
		conn, err := authenticate(ctx, nc, mech, clientID, host)
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("SASL %s with %s: %w", mech.Name(), addr, err)
		}
		return conn, nil
	}
}
