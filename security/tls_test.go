package security

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// handshake runs a TLS handshake over loopback and returns the server's
// view of the connection and both sides' errors.
func handshake(t *testing.T, server, client *tls.Config) (tls.ConnectionState, error, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		cs  tls.ConnectionState
		err error
	}
	ch := make(chan res, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			ch <- res{err: err}
			return
		}
		defer nc.Close()
		tc := tls.Server(nc, server)
		tc.SetDeadline(time.Now().Add(10 * time.Second))
		err = tc.Handshake()
		if err == nil {
			// TLS 1.3 reports a rejected client certificate only on read.
			tc.Write([]byte{1})
			_, err = tc.Read(make([]byte, 1))
		}
		ch <- res{tc.ConnectionState(), err}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	tc := tls.Client(nc, client)
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	cerr := tc.Handshake()
	if cerr == nil {
		_, cerr = tc.Read(make([]byte, 1))
		if cerr == nil {
			tc.Write([]byte{1})
		}
	}
	r := <-ch
	return r.cs, r.err, cerr
}

func TestTLSServerNeedsKeystore(t *testing.T) {
	if _, _, err := ServerTLSConfig(TLSSettings{}); err == nil || !strings.Contains(err.Error(), "needs a keystore") {
		t.Fatalf("err = %v", err)
	}
	ca := newCA(t, "ca")
	srv := ca.issue(t, pkix.Name{CommonName: "broker"})
	if _, _, err := ServerTLSConfig(TLSSettings{Keystore: srv.pemKeystore(t), ClientAuth: "required"}); err == nil || !strings.Contains(err.Error(), "needs a truststore") {
		t.Fatalf("client auth without truststore: err = %v", err)
	}
}

func TestTLSMutualAuthPrincipal(t *testing.T) {
	ca := newCA(t, "ca")
	srv := ca.issue(t, pkix.Name{CommonName: "broker"})
	cli := ca.issue(t, pkix.Name{CommonName: "alice", Organization: []string{"Spool"}})
	scfg, _, err := ServerTLSConfig(TLSSettings{Keystore: srv.pemKeystore(t), Truststore: ca.pemTruststore(t), ClientAuth: "required"})
	if err != nil {
		t.Fatal(err)
	}
	ccfg, err := ClientTLSConfig(TLSSettings{Keystore: cli.pemKeystore(t), Truststore: ca.pemTruststore(t), EndpointIdentification: true}, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	cs, serr, cerr := handshake(t, scfg, ccfg)
	if serr != nil || cerr != nil {
		t.Fatalf("handshake: server %v, client %v", serr, cerr)
	}
	mapper, _ := ParsePrincipalMappingRules(`RULE:^CN=([^,]*),O=Spool$/$1/L,DEFAULT`)
	l := &Listener{Mapper: mapper}
	p, err := l.CertPrincipal(cs)
	if err != nil || p != User("alice") {
		t.Fatalf("principal %v, %v", p, err)
	}
	// No certificate: required fails the handshake.
	noCert, _ := ClientTLSConfig(TLSSettings{Truststore: ca.pemTruststore(t), EndpointIdentification: true}, "localhost")
	if _, serr, cerr := handshake(t, scfg, noCert); serr == nil && cerr == nil {
		t.Fatal("a client without a certificate passed ssl.client.auth=required")
	}
	// A certificate from another CA is refused.
	rogue := newCA(t, "rogue").issue(t, pkix.Name{CommonName: "alice", Organization: []string{"Spool"}})
	rogueCfg, _ := ClientTLSConfig(TLSSettings{Keystore: rogue.pemKeystore(t), Truststore: ca.pemTruststore(t), EndpointIdentification: true}, "localhost")
	if _, serr, _ := handshake(t, scfg, rogueCfg); serr == nil {
		t.Fatal("a client certificate from an untrusted CA was accepted")
	}
}

func TestTLSRequestedWithoutCertIsAnonymous(t *testing.T) {
	ca := newCA(t, "ca")
	srv := ca.issue(t, pkix.Name{CommonName: "broker"})
	scfg, _, err := ServerTLSConfig(TLSSettings{Keystore: srv.pemKeystore(t), Truststore: ca.pemTruststore(t), ClientAuth: "requested"})
	if err != nil {
		t.Fatal(err)
	}
	ccfg, _ := ClientTLSConfig(TLSSettings{Truststore: ca.pemTruststore(t), EndpointIdentification: true}, "localhost")
	cs, serr, cerr := handshake(t, scfg, ccfg)
	if serr != nil || cerr != nil {
		t.Fatalf("server %v client %v", serr, cerr)
	}
	l := &Listener{Mapper: &PrincipalMapper{rules: []mappingRule{{isDefault: true}}}}
	if p, _ := l.CertPrincipal(cs); p != Anonymous {
		t.Fatalf("principal %v, want ANONYMOUS", p)
	}
}

func TestTLSClientVerifiesServer(t *testing.T) {
	ca := newCA(t, "ca")
	srv := ca.issue(t, pkix.Name{CommonName: "broker"})
	scfg, _, _ := ServerTLSConfig(TLSSettings{Keystore: srv.pemKeystore(t)})
	// Untrusted server certificate.
	other := newCA(t, "other")
	ccfg, _ := ClientTLSConfig(TLSSettings{Truststore: other.pemTruststore(t), EndpointIdentification: true}, "localhost")
	if _, _, cerr := handshake(t, scfg, ccfg); cerr == nil || !errors.As(cerr, new(*tlsCertErr)) && !strings.Contains(cerr.Error(), "certificate") {
		t.Fatalf("untrusted server: client err = %v", cerr)
	}
	// Host name checked with https, only the chain without.
	wrongHost, _ := ClientTLSConfig(TLSSettings{Truststore: ca.pemTruststore(t), EndpointIdentification: true}, "broker.example.com")
	if _, _, cerr := handshake(t, scfg, wrongHost); cerr == nil {
		t.Fatal("a certificate for another host passed endpoint identification")
	}
	noHostCheck, _ := ClientTLSConfig(TLSSettings{Truststore: ca.pemTruststore(t)}, "broker.example.com")
	if _, serr, cerr := handshake(t, scfg, noHostCheck); serr != nil || cerr != nil {
		t.Fatalf("empty endpoint identification: server %v, client %v", serr, cerr)
	}
	untrustedNoHostCheck, _ := ClientTLSConfig(TLSSettings{Truststore: other.pemTruststore(t)}, "localhost")
	if _, _, cerr := handshake(t, scfg, untrustedNoHostCheck); cerr == nil {
		t.Fatal("without host name checks the chain must still be verified")
	}
}

type tlsCertErr = tls.CertificateVerificationError

func TestTLSVersionsAndSuites(t *testing.T) {
	cfg := &tls.Config{}
	if err := applyVersions(cfg, TLSSettings{Protocols: []string{"TLSv1.3"}}); err != nil || cfg.MinVersion != tls.VersionTLS13 {
		t.Fatalf("TLSv1.3 only: %v %x", err, cfg.MinVersion)
	}
	cfg = &tls.Config{}
	if err := applyVersions(cfg, TLSSettings{CipherSuites: []string{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}}); err != nil ||
		cfg.MaxVersion != tls.VersionTLS12 || len(cfg.CipherSuites) != 1 {
		t.Fatalf("TLS 1.2 suites only: %v max %x suites %v", err, cfg.MaxVersion, cfg.CipherSuites)
	}
	bad := map[string]TLSSettings{
		"SSLv3":          {Protocols: []string{"SSLv3"}},
		"unknown suite":  {CipherSuites: []string{"TLS_NOPE"}},
		"insecure suite": {CipherSuites: []string{"TLS_RSA_WITH_RC4_128_SHA"}},
		"narrowed 1.3":   {CipherSuites: []string{"TLS_AES_128_GCM_SHA256"}},
		"1.2 pref only":  {Protocol: "TLSv1.2", Protocols: []string{"TLSv1.3"}},
	}
	for name, s := range bad {
		if err := applyVersions(&tls.Config{}, s); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestKeystoreReload(t *testing.T) {
	ca := newCA(t, "ca")
	first := ca.issue(t, pkix.Name{CommonName: "broker"})
	_, ks, err := ServerTLSConfig(TLSSettings{Keystore: first.pemKeystore(t)})
	if err != nil {
		t.Fatal(err)
	}
	renewed := ca.issue(t, pkix.Name{CommonName: "broker"})
	if err := ks.Reload(renewed.pemKeystore(t)); err != nil {
		t.Fatal(err)
	}
	if ks.Current().Leaf.SerialNumber.Cmp(renewed.cert.SerialNumber) != 0 {
		t.Fatal("reload did not swap the certificate")
	}
	other := ca.issue(t, pkix.Name{CommonName: "impostor"})
	if err := ks.Reload(other.pemKeystore(t)); err == nil || !strings.Contains(err.Error(), "ssl.allow.dn.changes") {
		t.Fatalf("DN change: err = %v", err)
	}
	moreNames := ca.issue(t, pkix.Name{CommonName: "broker"}, "extra.example.com")
	if err := ks.Reload(moreNames.pemKeystore(t)); err == nil || !strings.Contains(err.Error(), "ssl.allow.san.changes") {
		t.Fatalf("SAN change: err = %v", err)
	}
	if ks.Current().Leaf.SerialNumber.Cmp(renewed.cert.SerialNumber) != 0 {
		t.Fatal("a refused reload replaced the certificate")
	}
}
