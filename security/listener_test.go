package security

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/config"
)

func mustConfig(t *testing.T, props map[string]string) *config.Config {
	t.Helper()
	c, problems, unknown := config.New(props)
	if len(problems) > 0 || len(unknown) > 0 {
		t.Fatalf("config problems %v unknown %v", problems, unknown)
	}
	return c
}

func TestNewListenerErrors(t *testing.T) {
	ca := newCA(t, "ca")
	srv := ca.issue(t, pkix.Name{CommonName: "broker"})
	ks := srv.pemKeystore(t)
	l := config.Listener{Name: "SASL_SSL", SecurityProtocol: "SASL_SSL"}
	scram := func(string, int8) (ScramCredential, bool) { return ScramCredential{}, false }
	cases := map[string]struct {
		props map[string]string
		want  string
	}{
		"no keystore": {map[string]string{}, "needs a keystore"},
		"default GSSAPI": {map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.location": ks.Location},
			"GSSAPI (Kerberos) is not supported"},
		"PLAIN without JAAS": {map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.location": ks.Location, "sasl.enabled.mechanisms": "PLAIN"},
			"PLAIN needs"},
		"PLAIN without users": {map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.location": ks.Location, "sasl.enabled.mechanisms": "PLAIN",
			"listener.name.sasl_ssl.plain.sasl.jaas.config": PlainLoginModule + ` required username="a" password="b";`}, "no user_"},
		"wrong module": {map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.location": ks.Location, "sasl.enabled.mechanisms": "PLAIN",
			"listener.name.sasl_ssl.plain.sasl.jaas.config": ScramLoginModule + ` required user_a="b";`}, "want " + PlainLoginModule},
		"OAUTHBEARER without JWKS": {map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.location": ks.Location, "sasl.enabled.mechanisms": "OAUTHBEARER"},
			"jwks.endpoint.url"},
	}
	for name, c := range cases {
		_, err := NewListener(mustConfig(t, c.props), l, scram, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
}

func TestCheckListenerOverrides(t *testing.T) {
	c := mustConfig(t, map[string]string{
		"listener.name.nope.ssl.keystore.location":    "/x",
		"listener.name.client.plain.sasl.jaas.config": "not jaas",
		"sasl.jaas.config":                            PlainLoginModule + " required a=b;",
	})
	ps := Check(c, []config.Listener{{Name: "CLIENT"}})
	if len(ps) != 2 {
		t.Fatalf("problems %v", ps)
	}
}

// TestDialerSASLSSL runs the outbound dialer against a listener built from
// properties: TLS, then SCRAM-SHA-512 through SaslHandshake and
// SaslAuthenticate frames served by a Session.
func TestDialerSASLSSL(t *testing.T) {
	ca := newCA(t, "ca")
	srv := ca.issue(t, pkix.Name{CommonName: "broker"})
	cred, _ := NewScramCredential(ScramSHA512, "broker-secret", nil, 4096)
	lookup := func(u string, m int8) (ScramCredential, bool) { return cred, u == "broker" && m == ScramSHA512 }
	props := map[string]string{
		"listener.name.internal.ssl.keystore.type":              "PEM",
		"listener.name.internal.ssl.keystore.location":          srv.pemKeystore(t).Location,
		"listener.name.internal.ssl.truststore.type":            "PEM",
		"listener.name.internal.ssl.truststore.location":        ca.pemTruststore(t).Location,
		"sasl.enabled.mechanisms":                               "SCRAM-SHA-512",
		"connections.max.reauth.ms":                             "60000",
		"listener.name.internal.scram-sha-512.sasl.jaas.config": ScramLoginModule + ` required username="broker" password="broker-secret";`,
	}
	c := mustConfig(t, props)
	l := config.Listener{Name: "INTERNAL", SecurityProtocol: "SASL_SSL"}
	sec, err := NewListener(c, l, lookup, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go serveSASL(t, ln, sec)
	cc, err := OutboundConfig(c, l, "SCRAM-SHA-512")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc, err := cc.Dialer("test")(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ac, ok := nc.(*AuthedConn)
	if !ok || ac.Expired(time.Now()) || !ac.Expired(time.Now().Add(55*time.Second)) {
		t.Fatalf("conn %T: renewal does not follow the 60s session lifetime", nc)
	}
	// A wrong password is refused with Kafka's error.
	props["listener.name.internal.scram-sha-512.sasl.jaas.config"] = ScramLoginModule + ` required username="broker" password="wrong";`
	bad, _ := OutboundConfig(mustConfig(t, props), l, "SCRAM-SHA-512")
	if _, err := bad.Dialer("test")(ctx, "tcp", ln.Addr().String()); err == nil || !strings.Contains(err.Error(), "SASL_AUTHENTICATION_FAILED") {
		t.Fatalf("wrong password: %v", err)
	}
}

// serveSASL is a minimal listener: TLS, then SASL requests into a Session.
func serveSASL(t *testing.T, ln net.Listener, sec *Listener) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer nc.Close()
			tc := tls.Server(nc, sec.TLS)
			s := NewSession(sec.SASL)
			for {
				var size [4]byte
				if _, err := io.ReadFull(tc, size[:]); err != nil {
					return
				}
				frame := make([]byte, binary.BigEndian.Uint32(size[:]))
				if _, err := io.ReadFull(tc, frame); err != nil {
					return
				}
				r := kbin.Reader{Src: frame}
				key, ver, corr := r.Int16(), r.Int16(), r.Int32()
				r.NullableString()
				var resp kmsg.Response
				closeAfter := false
				switch key {
				case 17:
					req := kmsg.NewPtrSASLHandshakeRequest()
					req.Version = ver
					req.ReadFrom(r.Src)
					h := s.Handshake(ver, req.Mechanism, time.Now())
					out := req.ResponseKind().(*kmsg.SASLHandshakeResponse)
					out.ErrorCode, out.SupportedMechanisms, closeAfter = h.Code, h.Mechanisms, h.Close
					resp = out
				case 36:
					req := kmsg.NewPtrSASLAuthenticateRequest()
					req.Version = ver
					req.ReadFrom(r.Src)
					a := s.Authenticate(req.SASLAuthBytes, time.Now())
					out := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
					out.ErrorCode, out.SASLAuthBytes, out.SessionLifetimeMillis = a.Code, a.Token, a.Lifetime.Milliseconds()
					if a.Message != "" {
						out.ErrorMessage = &a.Message
					}
					closeAfter = a.Close
					resp = out
				default:
					return
				}
				resp.SetVersion(ver)
				b := kbin.AppendInt32([]byte{0, 0, 0, 0}, corr)
				b = resp.AppendTo(b)
				binary.BigEndian.PutUint32(b, uint32(len(b)-4))
				tc.Write(b)
				if closeAfter {
					return
				}
			}
		}()
	}
}

func TestParseClientProperties(t *testing.T) {
	cc, err := ParseClientProperties(map[string]string{
		"security.protocol": "sasl_ssl", "sasl.mechanism": "SCRAM-SHA-256",
		"sasl.jaas.config": ScramLoginModule + ` required username="alice" password="pw";`,
		"client.id":        "x",
	})
	if err != nil || cc.Protocol != "SASL_SSL" {
		t.Fatalf("%+v %v", cc, err)
	}
	if m, err := cc.SASL(); err != nil || m.Name() != "SCRAM-SHA-256" {
		t.Fatalf("mechanism %v %v", m, err)
	}
	bad := []map[string]string{
		{"security.protocol": "TLS"},
		{"security.protocol": "SASL_SSL"}, // GSSAPI default
		{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN"},
		{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN", "sasl.jaas.config": ScramLoginModule + ` required username="a" password="b";`},
		{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "OAUTHBEARER"},
		{"ssl.keymanager.algorithm": "SunX509"},
		{"sasl.login.callback.handler.class": "x"},
	}
	for _, p := range bad {
		if _, err := ParseClientProperties(p); err == nil {
			t.Errorf("%v accepted", p)
		}
	}
}
