package security

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"spool/config"
)

// Listener is one listener's security: its protocol, TLS configuration,
// SASL mechanisms, and how certificate names become principals.
type Listener struct {
	Name     string
	Protocol string
	TLS      *tls.Config // nil unless SSL or SASL_SSL
	Keystore *Keystore
	SASL     *SASLConfig // nil unless SASL_PLAINTEXT or SASL_SSL
	Mapper   *PrincipalMapper
	jwks     []*JWKS
}

// UsesTLS and UsesSASL describe a security protocol.
func UsesTLS(protocol string) bool  { return protocol == "SSL" || protocol == "SASL_SSL" }
func UsesSASL(protocol string) bool { return protocol == "SASL_PLAINTEXT" || protocol == "SASL_SSL" }

// Close releases background work (JWKS refreshing).
func (l *Listener) Close() {
	for _, j := range l.jwks {
		j.Close()
	}
}

// CertPrincipal is the principal of a TLS connection without SASL: the
// client certificate's mapped name, or ANONYMOUS without a certificate.
func (l *Listener) CertPrincipal(cs tls.ConnectionState) (Principal, error) {
	if len(cs.PeerCertificates) == 0 {
		return Anonymous, nil
	}
	name, err := l.Mapper.Map(SubjectDN(cs.PeerCertificates[0]))
	if err != nil {
		return Principal{}, err
	}
	return User(name), nil
}

// NewListener builds a listener's security from the static config. Every
// problem is an error: a listener is never served weaker than configured.
func NewListener(c *config.Config, l config.Listener, scram ScramLookup, tokens TokenLookup) (*Listener, error) {
	out := &Listener{Name: l.Name, Protocol: l.SecurityProtocol}
	var err error
	if out.Mapper, err = ParsePrincipalMappingRules(c.ListenerValue(l.Name, "ssl.principal.mapping.rules")); err != nil {
		return nil, fmt.Errorf("listener %s: ssl.principal.mapping.rules: %w", l.Name, err)
	}
	if UsesTLS(l.SecurityProtocol) {
		s := ListenerTLSSettings(c, l.Name)
		if l.SecurityProtocol == "SASL_SSL" && !c.IsSet("listener.name."+strings.ToLower(l.Name)+".ssl.client.auth") {
			// KIP-684: on SASL_SSL listeners only the listener-prefixed
			// ssl.client.auth applies.
			s.ClientAuth = "none"
		}
		if out.TLS, out.Keystore, err = ServerTLSConfig(s); err != nil {
			return nil, fmt.Errorf("listener %s (%s): %w", l.Name, l.SecurityProtocol, err)
		}
	}
	if UsesSASL(l.SecurityProtocol) {
		if out.SASL, err = out.buildSASL(c, scram, tokens); err != nil {
			out.Close()
			return nil, fmt.Errorf("listener %s (%s): %w", l.Name, l.SecurityProtocol, err)
		}
	}
	return out, nil
}

// ListenerTLSSettings reads a listener's ssl.* settings, honouring
// listener.name.<l>.ssl.* overrides.
func ListenerTLSSettings(c *config.Config, name string) TLSSettings {
	v := func(k string) string { return c.ListenerValue(name, k) }
	return TLSSettings{
		Keystore: StoreSpec{
			Type: v("ssl.keystore.type"), Location: v("ssl.keystore.location"), Password: v("ssl.keystore.password"),
			KeyPassword: v("ssl.key.password"), Inline: v("ssl.keystore.certificate.chain"), InlineKey: v("ssl.keystore.key"),
		},
		Truststore: StoreSpec{
			Type: v("ssl.truststore.type"), Location: v("ssl.truststore.location"), Password: v("ssl.truststore.password"),
			Inline: v("ssl.truststore.certificates"),
		},
		ClientAuth: v("ssl.client.auth"), Protocol: v("ssl.protocol"),
		Protocols: config.SplitList(v("ssl.enabled.protocols")), CipherSuites: config.SplitList(v("ssl.cipher.suites")),
		EndpointIdentification: strings.EqualFold(v("ssl.endpoint.identification.algorithm"), "https"),
		AllowDNChanges:         strings.EqualFold(v("ssl.allow.dn.changes"), "true"),
		AllowSANChanges:        strings.EqualFold(v("ssl.allow.san.changes"), "true"),
	}
}

func (out *Listener) buildSASL(c *config.Config, scram ScramLookup, tokens TokenLookup) (*SASLConfig, error) {
	name := out.Name
	enabled := upperAll(config.SplitList(c.ListenerValue(name, "sasl.enabled.mechanisms")))
	if len(enabled) == 0 {
		return nil, errors.New("sasl.enabled.mechanisms is empty")
	}
	cfg := &SASLConfig{Mechanisms: map[string]Mechanism{}, Enabled: enabled, MaxReauth: map[string]time.Duration{},
		MaxReceive: int(parseInt(c.ListenerValue(name, "sasl.server.max.receive.size")))}
	for _, mech := range enabled {
		m, err := out.mechanism(c, mech, scram, tokens)
		if err != nil {
			return nil, err
		}
		cfg.Mechanisms[mech] = m
		cfg.MaxReauth[mech] = time.Duration(parseInt(c.MechanismValue(name, mech, "connections.max.reauth.ms"))) * time.Millisecond
	}
	return cfg, nil
}

func (out *Listener) mechanism(c *config.Config, mech string, scram ScramLookup, tokens TokenLookup) (Mechanism, error) {
	jaas, err := ServerJAAS(c, out.Name, mech)
	if err != nil {
		return nil, err
	}
	switch mech {
	case MechPlain:
		if jaas == nil {
			return nil, fmt.Errorf("PLAIN needs listener.name.%s.plain.sasl.jaas.config with %s and user_<name>=\"<password>\" options", strings.ToLower(out.Name), PlainLoginModule)
		}
		users := map[string]string{}
		for k, v := range jaas.Options {
			if u, ok := strings.CutPrefix(k, "user_"); ok && u != "" {
				users[u] = v
			}
		}
		if len(users) == 0 {
			return nil, fmt.Errorf("the PLAIN JAAS config of listener %s declares no user_<name> options, so nobody could log in", out.Name)
		}
		return NewPlain(users), nil
	case MechScramSHA256, MechScramSHA512:
		if scram == nil {
			return nil, fmt.Errorf("%s needs the SCRAM credential store", mech)
		}
		return NewScram(ScramMechanismByName(mech), scram, tokens)
	case MechOAuthBearer:
		return out.oauth(c, jaas)
	case "GSSAPI":
		return nil, errors.New("GSSAPI (Kerberos) is not supported; set sasl.enabled.mechanisms to PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER")
	}
	return nil, fmt.Errorf("unknown SASL mechanism %s", mech)
}

func (out *Listener) oauth(c *config.Config, jaas *LoginModule) (Mechanism, error) {
	v := func(k string) string { return c.MechanismValue(out.Name, MechOAuthBearer, k) }
	if jaas != nil {
		for k := range jaas.Options {
			if strings.HasPrefix(k, "unsecuredValidator") {
				return nil, fmt.Errorf("OAUTHBEARER option %s: unsecured token validation is not supported; set sasl.oauthbearer.jwks.endpoint.url", k)
			}
		}
	}
	if v("sasl.oauthbearer.jwks.endpoint.url") == "" {
		// Kafka would fall back to accepting unsigned tokens; never here.
		return nil, errors.New("OAUTHBEARER needs sasl.oauthbearer.jwks.endpoint.url (Spool never accepts unsigned tokens)")
	}
	ms := func(k string) time.Duration { return time.Duration(parseInt(v(k))) * time.Millisecond }
	s := OAuthSettings{
		JWKSURL: v("sasl.oauthbearer.jwks.endpoint.url"), Refresh: ms("sasl.oauthbearer.jwks.endpoint.refresh.ms"),
		RetryBackoff: ms("sasl.oauthbearer.jwks.endpoint.retry.backoff.ms"), RetryMax: ms("sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms"),
		Audience: config.SplitList(v("sasl.oauthbearer.expected.audience")), Issuer: v("sasl.oauthbearer.expected.issuer"),
		ClockSkew: time.Duration(parseInt(v("sasl.oauthbearer.clock.skew.seconds"))) * time.Second,
		SubClaim:  v("sasl.oauthbearer.sub.claim.name"), ScopeClaim: v("sasl.oauthbearer.scope.claim.name"),
	}
	keys, err := OpenJWKS(s)
	if err != nil {
		return nil, err
	}
	out.jwks = append(out.jwks, keys)
	return NewOAuthBearer(s, keys), nil
}

// ServerJAAS returns the parsed JAAS config of a listener's mechanism
// (listener.name.<l>.<mech>.sasl.jaas.config, then the listener-wide and
// broker-wide sasl.jaas.config), nil when none is set. The login module
// must be the mechanism's.
func ServerJAAS(c *config.Config, listener, mech string) (*LoginModule, error) {
	text := c.MechanismValue(listener, mech, "sasl.jaas.config")
	if text == "" {
		return nil, nil
	}
	m, err := ParseJAAS(text)
	if err != nil {
		return nil, fmt.Errorf("sasl.jaas.config of listener %s, mechanism %s: %w", listener, mech, err)
	}
	if want := loginModuleFor(mech); want != "" && m.Name != want {
		return nil, fmt.Errorf("sasl.jaas.config of listener %s, mechanism %s: login module %s, want %s", listener, mech, m.Name, want)
	}
	return &m, nil
}

func loginModuleFor(mech string) string {
	switch mech {
	case MechPlain:
		return PlainLoginModule
	case MechScramSHA256, MechScramSHA512:
		return ScramLoginModule
	case MechOAuthBearer:
		return OAuthBearerLoginModule
	}
	return ""
}

// Check validates what NewListener cannot reach: every listener.name.*
// key names a bound listener, and every sasl.jaas.config parses, used or not.
func Check(c *config.Config, listeners []config.Listener) []config.Problem {
	var ps []config.Problem
	names := map[string]bool{}
	for _, l := range listeners {
		names[strings.ToUpper(l.Name)] = true
	}
	for _, k := range c.ListenerOverrides() {
		lk, _ := config.LookupListenerKey(k)
		if !names[lk.Listener] {
			ps = append(ps, config.Problem{Key: k, Message: "names listener " + lk.Listener + ", which is not in listeners"})
			continue
		}
		if lk.Def != nil && lk.Def.Name == "sasl.jaas.config" {
			if _, err := ParseJAAS(c.Get(k)); err != nil {
				ps = append(ps, config.Problem{Key: k, Message: "does not parse: " + err.Error()})
			}
		}
	}
	if c.IsSet("sasl.jaas.config") {
		if _, err := ParseJAAS(c.Get("sasl.jaas.config")); err != nil {
			ps = append(ps, config.Problem{Key: "sasl.jaas.config", Message: "does not parse: " + err.Error()})
		}
	}
	return ps
}

func upperAll(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.ToUpper(s)
	}
	return out
}

func parseInt(s string) int64 {
	var n int64
	fmt.Sscan(s, &n)
	return n
}
