package config

import (
	"strings"
)

// Kafka's JSSE knobs that have no meaning for Go's crypto/tls are accepted
// only at Kafka's defaults, so a copied server.properties still starts but a
// setting that would change behaviour is refused instead of ignored.
const (
	defaultPrincipalBuilder = "org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder"
	// OAuthValidatorHandler is the only server callback handler Spool
	// implements: JWT validation against a JWKS (KIP-768).
	OAuthValidatorHandler = "org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler"
)

// securityDefs are the TLS and SASL configs (Kafka's names and defaults).
// Keys marked perListener may also be set as listener.name.<l>.<key>;
// perMechanism keys as listener.name.<l>.<mechanism>.<key>.
var securityDefs = []Def{
	def("security.inter.broker.protocol", TypeString, "PLAINTEXT", "Security protocol between brokers; names the inter-broker listener when inter.broker.listener.name is not set.").rule(oneOf("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")),
	def("principal.builder.class", TypeClass, defaultPrincipalBuilder, "Only Kafka's default principal builder is supported.").rule(exactly(defaultPrincipalBuilder)),
	def("connections.max.reauth.ms", TypeLong, "0", "Longest SASL session before the client must re-authenticate (KIP-368); 0 turns re-authentication off.").rule(atLeast(0)).perListener().perMechanism(),

	// SASL.
	def("sasl.enabled.mechanisms", TypeList, "GSSAPI", "SASL mechanisms a SASL listener accepts: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER (GSSAPI is not supported).").rule(listOf("GSSAPI", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")).perListener(),
	def("sasl.mechanism.inter.broker.protocol", TypeString, "GSSAPI", "SASL mechanism brokers use towards each other.").rule(oneOf("GSSAPI", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")),
	def("sasl.mechanism.controller.protocol", TypeString, "GSSAPI", "SASL mechanism used towards the controllers.").rule(oneOf("GSSAPI", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")),
	def("sasl.jaas.config", TypePassword, "", "JAAS login module configuration; per listener and mechanism as listener.name.<l>.<mechanism>.sasl.jaas.config.").noDefault().perListener().perMechanism(),
	def("sasl.server.callback.handler.class", TypeClass, "", "Server callback handler; only "+OAuthValidatorHandler+" (OAUTHBEARER with JWT validation) is supported.").noDefault().rule(exactly(OAuthValidatorHandler)).perListener().perMechanism(),
	def("sasl.server.max.receive.size", TypeInt, "524288", "Largest request accepted before a SASL client has authenticated.").rule(atLeast(1)).perListener(),
	def("sasl.oauthbearer.jwks.endpoint.url", TypeString, "", "JWKS used to verify OAUTHBEARER tokens: an https:// or http:// URL, or file:///path.").noDefault().perListener().perMechanism(),
	def("sasl.oauthbearer.jwks.endpoint.refresh.ms", TypeLong, "3600000", "How often a JWKS URL is fetched again.").rule(atLeast(1)).perListener().perMechanism(),
	def("sasl.oauthbearer.jwks.endpoint.retry.backoff.ms", TypeLong, "100", "First wait before refetching a JWKS that failed or lacks a token's key.").rule(atLeast(0)).perListener().perMechanism(),
	def("sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms", TypeLong, "10000", "Longest wait between JWKS refetches.").rule(atLeast(0)).perListener().perMechanism(),
	def("sasl.oauthbearer.expected.audience", TypeList, "", "Audiences a token must name one of (aud); empty checks none.").noDefault().perListener().perMechanism(),
	def("sasl.oauthbearer.expected.issuer", TypeString, "", "Issuer a token must name (iss); empty checks none.").noDefault().perListener().perMechanism(),
	def("sasl.oauthbearer.clock.skew.seconds", TypeInt, "30", "Clock difference allowed when checking exp, nbf and iat.").rule(atLeast(0)).perListener().perMechanism(),
	def("sasl.oauthbearer.sub.claim.name", TypeString, "sub", "Claim naming the principal.").rule(nonEmpty).perListener().perMechanism(),
	def("sasl.oauthbearer.scope.claim.name", TypeString, "scope", "Claim holding the token's scopes.").rule(nonEmpty).perListener().perMechanism(),

	// Delegation tokens (KIP-48).
	def("delegation.token.secret.key", TypePassword, "", "Secret that signs delegation tokens (HMAC-SHA512); the same on every node. Empty turns delegation tokens off.").noDefault(),
	def("delegation.token.max.lifetime.ms", TypeLong, "604800000", "Longest a delegation token lives, however often it is renewed.").rule(atLeast(1)),
	def("delegation.token.expiry.time.ms", TypeLong, "86400000", "How long a delegation token lives before it must be renewed.").rule(atLeast(1)),
	def("delegation.token.expiry.check.interval.ms", TypeLong, "3600000", "How often the active controller removes expired delegation tokens.").rule(atLeast(1)),

	// TLS.
	def("ssl.protocol", TypeString, "TLSv1.3", "Protocol preferred for TLS connections.").rule(oneOf("TLSv1.2", "TLSv1.3", "TLS")).perListener(),
	def("ssl.enabled.protocols", TypeList, "TLSv1.2,TLSv1.3", "TLS versions accepted.").rule(listOf("TLSv1.2", "TLSv1.3")).perListener(),
	def("ssl.cipher.suites", TypeList, "", "TLS 1.2 cipher suites by IANA name; empty allows Go's secure defaults.").noDefault().perListener(),
	def("ssl.keystore.type", TypeString, "JKS", "Keystore format: JKS, PKCS12 or PEM.").rule(oneOf("JKS", "PKCS12", "PEM")).perListener(),
	def("ssl.keystore.location", TypeString, "", "Keystore file.").noDefault().perListener(),
	def("ssl.keystore.password", TypePassword, "", "Keystore password (JKS, PKCS12).").noDefault().perListener(),
	def("ssl.key.password", TypePassword, "", "Private key password (JKS, PKCS12, or an encrypted PKCS#8 PEM key).").noDefault().perListener(),
	def("ssl.keystore.certificate.chain", TypePassword, "", "PEM certificate chain, inline (ssl.keystore.type=PEM).").noDefault().perListener(),
	def("ssl.keystore.key", TypePassword, "", "PEM private key, inline (ssl.keystore.type=PEM).").noDefault().perListener(),
	def("ssl.truststore.type", TypeString, "JKS", "Truststore format: JKS, PKCS12 or PEM.").rule(oneOf("JKS", "PKCS12", "PEM")).perListener(),
	def("ssl.truststore.location", TypeString, "", "Truststore file.").noDefault().perListener(),
	def("ssl.truststore.password", TypePassword, "", "Truststore password (JKS, PKCS12).").noDefault().perListener(),
	def("ssl.truststore.certificates", TypePassword, "", "Trusted PEM certificates, inline (ssl.truststore.type=PEM).").noDefault().perListener(),
	def("ssl.client.auth", TypeString, "none", "Client certificates on SSL listeners: required, requested or none (SASL_SSL listeners take it only as listener.name.<l>.ssl.client.auth).").rule(oneOf("required", "requested", "none")).perListener(),
	def("ssl.endpoint.identification.algorithm", TypeString, "https", "https checks that the peer's certificate names the host connected to; empty checks only the chain.").rule(oneOf("https", "")).perListener(),
	def("ssl.principal.mapping.rules", TypeString, "DEFAULT", "Rules mapping a client certificate's distinguished name to a principal name (RULE:pattern/replacement/[LU], DEFAULT).").perListener(),
	def("ssl.allow.dn.changes", TypeBoolean, "false", "Allow a reloaded keystore to change the certificate's distinguished name.").perListener(),
	def("ssl.allow.san.changes", TypeBoolean, "false", "Allow a reloaded keystore to change the certificate's subject alternative names.").perListener(),
	def("ssl.keymanager.algorithm", TypeString, "SunX509", "Java key manager; accepted only at Kafka's default.").rule(exactly("SunX509")).perListener(),
	def("ssl.trustmanager.algorithm", TypeString, "PKIX", "Java trust manager; accepted only at Kafka's default.").rule(exactly("PKIX")).perListener(),
	def("ssl.secure.random.implementation", TypeString, "", "Java SecureRandom; not settable (crypto/rand is used).").noDefault().rule(exactly("")).perListener(),
	def("ssl.provider", TypeString, "", "Java security provider; not settable.").noDefault().rule(exactly("")).perListener(),
	def("ssl.engine.factory.class", TypeClass, "", "Java SSL engine factory; not settable.").noDefault().rule(exactly("")).perListener(),
}

// perListenerOK and perMechanismOK are the keys that take listener.name.
// prefixes, filled from securityDefs and brokerDefs (max.connections).
var perListenerOK, perMechanismOK = prefixable()

func prefixable() (map[string]bool, map[string]bool) {
	l, m := map[string]bool{}, map[string]bool{}
	for _, d := range concat(securityDefs, brokerDefs) {
		if d.PerListener {
			l[d.Name] = true
		}
		if d.PerMechanism {
			m[d.Name] = true
		}
	}
	return l, m
}

func (d Def) perListener() Def  { d.PerListener = true; return d }
func (d Def) perMechanism() Def { d.PerMechanism = true; return d }

// ListenerKey is a parsed listener.name.<l>[.<mechanism>].<key> config.
type ListenerKey struct {
	Listener  string // upper case, as listener names are compared
	Mechanism string // upper case; empty for listener-wide keys
	Def       *Def
}

// LookupListenerKey parses a listener-prefixed config name. ok is false for
// names without the prefix; a prefixed name whose key Spool does not know
// (or that may not be prefixed) returns ok with a nil Def.
func LookupListenerKey(name string) (ListenerKey, bool) {
	rest, found := strings.CutPrefix(name, "listener.name.")
	if !found {
		return ListenerKey{}, false
	}
	l, key, found := strings.Cut(rest, ".")
	if !found || l == "" {
		return ListenerKey{}, true
	}
	out := ListenerKey{Listener: strings.ToUpper(l)}
	if perListenerOK[key] {
		out.Def = LookupBroker(key)
		return out, true
	}
	mech, key, found := strings.Cut(key, ".")
	if found && perMechanismOK[key] && isMechanism(mech) {
		out.Mechanism = strings.ToUpper(mech)
		out.Def = LookupBroker(key)
	}
	return out, true
}

func isMechanism(m string) bool {
	switch strings.ToUpper(m) {
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "GSSAPI":
		return true
	}
	return false
}

// IsSecurityKey reports whether an unknown key names a security setting;
// those are refused rather than ignored, since ignoring one could leave a
// listener weaker than its operator meant.
func IsSecurityKey(name string) bool {
	for _, p := range []string{"ssl.", "sasl.", "listener.name.", "security.", "principal."} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// ListenerValue returns key for listener l: listener.name.<l>.<key> when
// set, else the broker-wide value (or default).
func (c *Config) ListenerValue(l, key string) string {
	if v, ok := c.listenerSet(l, "", key); ok {
		return v
	}
	return c.Get(key)
}

// ListenerIsSet reports whether key is set for listener l, prefixed or not.
func (c *Config) ListenerIsSet(l, key string) bool {
	_, ok := c.listenerSet(l, "", key)
	return ok || c.IsSet(key)
}

// MechanismValue returns key for listener l and a SASL mechanism:
// listener.name.<l>.<mech>.<key>, then listener.name.<l>.<key>, then the
// broker-wide value.
func (c *Config) MechanismValue(l, mech, key string) string {
	if v, ok := c.listenerSet(l, mech, key); ok {
		return v
	}
	return c.ListenerValue(l, key)
}

func (c *Config) listenerSet(l, mech, key string) (string, bool) {
	// Listener names are case-insensitive; Kafka writes them lower case
	// in prefixes.
	for k, v := range c.set {
		lk, ok := LookupListenerKey(k)
		if ok && lk.Def != nil && lk.Def.Name == key && lk.Listener == strings.ToUpper(l) && lk.Mechanism == strings.ToUpper(mech) {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// ListenerOverrides returns the listener-prefixed keys that are set, for
// checking that each names a listener that exists.
func (c *Config) ListenerOverrides() []string {
	var out []string
	for k := range c.set {
		if strings.HasPrefix(k, "listener.name.") {
			out = append(out, k)
		}
	}
	return out
}

// reloadable are the keystore keys a running broker may change per
// listener (listener.name.<l>.ssl.keystore.*), as Kafka allows.
var reloadable = map[string]bool{
	"ssl.keystore.type": true, "ssl.keystore.location": true, "ssl.keystore.password": true,
	"ssl.key.password": true, "ssl.keystore.certificate.chain": true, "ssl.keystore.key": true,
}

// ReloadableListenerKey reports whether name is a listener-prefixed
// keystore key, which IncrementalAlterConfigs may set on a broker to
// replace a listener's certificate without a restart.
func ReloadableListenerKey(name string) (ListenerKey, bool) {
	lk, ok := LookupListenerKey(name)
	if !ok || lk.Def == nil || lk.Mechanism != "" || !reloadable[lk.Def.Name] {
		return ListenerKey{}, false
	}
	return lk, true
}
