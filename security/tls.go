package security

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// TLSSettings are one listener's (or one outbound connection's) ssl.*
// settings.
type TLSSettings struct {
	Keystore   StoreSpec
	Truststore StoreSpec
	// ClientAuth is ssl.client.auth: none, requested or required.
	ClientAuth string
	// Protocol is ssl.protocol; Protocols is ssl.enabled.protocols.
	Protocol     string
	Protocols    []string
	CipherSuites []string
	// EndpointIdentification is ssl.endpoint.identification.algorithm=https.
	EndpointIdentification bool
	AllowDNChanges         bool
	AllowSANChanges        bool
}

// Keystore is a certificate that can be replaced while connections use it:
// new handshakes see the new one, established connections keep theirs.
type Keystore struct {
	mu       sync.Mutex // serialises reloads
	cert     atomic.Pointer[tls.Certificate]
	settings TLSSettings
}

// NewKeystore loads s.Keystore.
func NewKeystore(s TLSSettings) (*Keystore, error) {
	cert, err := LoadKeystore(s.Keystore)
	if err != nil {
		return nil, err
	}
	k := &Keystore{settings: s}
	k.cert.Store(&cert)
	return k, nil
}

// Spec is the keystore the current certificate came from.
func (k *Keystore) Spec() StoreSpec {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.settings.Keystore
}

// Check loads spec and applies Reload's rules without swapping it in.
func (k *Keystore) Check(spec StoreSpec) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, err := k.load(spec)
	return err
}

// Current is the certificate handshakes use now.
func (k *Keystore) Current() *tls.Certificate { return k.cert.Load() }

// Reload loads spec and swaps it in. Like Kafka, it refuses a certificate
// whose subject or alternative names differ from the current one unless
// ssl.allow.dn.changes / ssl.allow.san.changes allow it.
func (k *Keystore) Reload(spec StoreSpec) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	cert, err := k.load(spec)
	if err != nil {
		return err
	}
	k.settings.Keystore = spec
	k.cert.Store(cert)
	return nil
}

// load reads spec and checks it may replace the current certificate; k.mu
// held.
func (k *Keystore) load(spec StoreSpec) (*tls.Certificate, error) {
	cert, err := LoadKeystore(spec)
	if err != nil {
		return nil, err
	}
	old := k.cert.Load().Leaf
	if !k.settings.AllowDNChanges && SubjectDN(old) != SubjectDN(cert.Leaf) {
		return nil, fmt.Errorf("the new keystore's certificate is for %q, not %q (set ssl.allow.dn.changes=true to allow it)", SubjectDN(cert.Leaf), SubjectDN(old))
	}
	if !k.settings.AllowSANChanges && !sameSANs(old, cert.Leaf) {
		return nil, fmt.Errorf("the new keystore's certificate has other subject alternative names (set ssl.allow.san.changes=true to allow it)")
	}
	return &cert, nil
}

func sameSANs(a, b *x509.Certificate) bool {
	ips := func(c *x509.Certificate) []string {
		var out []string
		for _, ip := range c.IPAddresses {
			out = append(out, ip.String())
		}
		return out
	}
	uris := func(c *x509.Certificate) []string {
		var out []string
		for _, u := range c.URIs {
			out = append(out, u.String())
		}
		return out
	}
	return slices.Equal(a.DNSNames, b.DNSNames) && slices.Equal(a.EmailAddresses, b.EmailAddresses) &&
		slices.Equal(ips(a), ips(b)) && slices.Equal(uris(a), uris(b))
}

// ServerTLSConfig builds the tls.Config of a TLS listener. A listener
// without a usable keystore is an error: it must never serve cleartext.
func ServerTLSConfig(s TLSSettings) (*tls.Config, *Keystore, error) {
	if s.Keystore.Empty() {
		return nil, nil, fmt.Errorf("a TLS listener needs a keystore (ssl.keystore.location, or ssl.keystore.type=PEM with ssl.keystore.certificate.chain and ssl.keystore.key)")
	}
	ks, err := NewKeystore(s)
	if err != nil {
		return nil, nil, fmt.Errorf("keystore: %w", err)
	}
	cfg := &tls.Config{
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return ks.Current(), nil },
	}
	if err := applyVersions(cfg, s); err != nil {
		return nil, nil, err
	}
	switch strings.ToLower(s.ClientAuth) {
	case "required":
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	case "requested":
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	case "none", "":
		cfg.ClientAuth = tls.NoClientCert
	default:
		return nil, nil, fmt.Errorf("ssl.client.auth=%s: want required, requested or none", s.ClientAuth)
	}
	if !s.Truststore.Empty() {
		if cfg.ClientCAs, err = LoadTruststore(s.Truststore); err != nil {
			return nil, nil, fmt.Errorf("truststore: %w", err)
		}
	} else if cfg.ClientAuth != tls.NoClientCert {
		// Go would fall back to the system roots; a client certificate
		// signed by any public CA must not become a principal.
		return nil, nil, fmt.Errorf("ssl.client.auth=%s needs a truststore (ssl.truststore.location or ssl.truststore.certificates)", s.ClientAuth)
	}
	return cfg, ks, nil
}

// ClientTLSConfig builds the tls.Config for connecting to serverName
// (host without port). The keystore is optional (a client certificate for
// mTLS); without a truststore the system roots are trusted, as Java trusts
// its default cacerts.
func ClientTLSConfig(s TLSSettings, serverName string) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: serverName}
	if err := applyVersions(cfg, s); err != nil {
		return nil, err
	}
	if !s.Keystore.Empty() {
		ks, err := NewKeystore(s)
		if err != nil {
			return nil, fmt.Errorf("keystore: %w", err)
		}
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return ks.Current(), nil }
	}
	if !s.Truststore.Empty() {
		pool, err := LoadTruststore(s.Truststore)
		if err != nil {
			return nil, fmt.Errorf("truststore: %w", err)
		}
		cfg.RootCAs = pool
	}
	if !s.EndpointIdentification {
		// Verify the chain but not the host name, as Kafka does with an
		// empty ssl.endpoint.identification.algorithm.
		roots := cfg.RootCAs
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error { return verifyChain(cs, roots) }
	}
	return cfg, nil
}

func verifyChain(cs tls.ConnectionState, roots *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return fmt.Errorf("the server sent no certificate")
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(opts)
	return err
}

var tlsVersions = map[string]uint16{"TLSv1.2": tls.VersionTLS12, "TLSv1.3": tls.VersionTLS13}

// applyVersions sets the version range and TLS 1.2 suites. Go cannot
// narrow TLS 1.3's suites, so a list naming some but not all of them is an
// error rather than a setting silently widened.
func applyVersions(cfg *tls.Config, s TLSSettings) error {
	protos := s.Protocols
	if len(protos) == 0 {
		protos = []string{"TLSv1.2", "TLSv1.3"}
	}
	for _, p := range protos {
		v, ok := tlsVersions[p]
		if !ok {
			return fmt.Errorf("ssl.enabled.protocols: %s is not supported (TLSv1.2, TLSv1.3)", p)
		}
		if cfg.MinVersion == 0 || v < cfg.MinVersion {
			cfg.MinVersion = v
		}
		cfg.MaxVersion = max(cfg.MaxVersion, v)
	}
	if s.Protocol == "TLSv1.2" {
		if cfg.MinVersion > tls.VersionTLS12 {
			return fmt.Errorf("ssl.protocol=TLSv1.2 but ssl.enabled.protocols allows only TLSv1.3")
		}
		cfg.MaxVersion = tls.VersionTLS12
	}
	if len(s.CipherSuites) == 0 {
		return nil
	}
	return applySuites(cfg, s.CipherSuites)
}

func applySuites(cfg *tls.Config, names []string) error {
	byName := map[string]*tls.CipherSuite{}
	tls13 := 0
	for _, cs := range tls.CipherSuites() {
		byName[cs.Name] = cs
		if slices.Contains(cs.SupportedVersions, tls.VersionTLS13) {
			tls13++
		}
	}
	insecure := map[string]bool{}
	for _, cs := range tls.InsecureCipherSuites() {
		insecure[cs.Name] = true
	}
	var got13 int
	var ids []uint16
	for _, n := range names {
		cs, ok := byName[n]
		switch {
		case insecure[n]:
			return fmt.Errorf("ssl.cipher.suites: %s is insecure and not offered", n)
		case !ok:
			return fmt.Errorf("ssl.cipher.suites: unknown cipher suite %s", n)
		case slices.Contains(cs.SupportedVersions, tls.VersionTLS13):
			got13++
		default:
			ids = append(ids, cs.ID)
		}
	}
	if got13 > 0 && got13 < tls13 && cfg.MaxVersion == tls.VersionTLS13 {
		return fmt.Errorf("ssl.cipher.suites: TLS 1.3 suites cannot be narrowed; list all of them or none (then TLS 1.3 is off)")
	}
	if got13 == 0 {
		cfg.MaxVersion = min(cfg.MaxVersion, tls.VersionTLS12)
	}
	if len(ids) == 0 {
		cfg.MinVersion = max(cfg.MinVersion, tls.VersionTLS13)
	}
	if cfg.MinVersion > cfg.MaxVersion {
		return fmt.Errorf("ssl.cipher.suites leaves no usable TLS version in ssl.enabled.protocols")
	}
	cfg.CipherSuites = ids
	return nil
}
