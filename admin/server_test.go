package admin

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"spool/config"
	"spool/logging"
	"spool/security"
)

type pemPair struct{ cert, key string }

// issue makes a certificate for cn signed by ca (self-signed when ca is nil).
func issue(t *testing.T, cn string, ca *x509.Certificate, caKey *ecdsa.PrivateKey) (pemPair, *x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	parent, signer := tmpl, key
	if ca == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign|x509.KeyUsageDigitalSignature
	} else {
		parent, signer = ca, caKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	return pemPair{
		cert: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		key:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})),
	}, cert, key
}

type fixture struct {
	ca, server, client pemPair
	pool               *x509.CertPool
}

func newFixture(t *testing.T) fixture {
	caPEM, ca, caKey := issue(t, "test-ca", nil, nil)
	srv, _, _ := issue(t, "localhost", ca, caKey)
	cli, _, _ := issue(t, "operator", ca, caKey)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return fixture{ca: caPEM, server: srv, client: cli, pool: pool}
}

func settingsFor(t *testing.T, props map[string]string, listeners []config.Listener) (Settings, error) {
	t.Helper()
	c, problems, _ := config.New(props)
	if len(problems) > 0 {
		t.Fatalf("config: %v", problems)
	}
	return LoadSettings(c, listeners)
}

func (f fixture) tlsProps(extra map[string]string) map[string]string {
	p := map[string]string{
		"http.listener": "127.0.0.1:0", "http.listener.security.protocol": "SSL",
		"listener.name.http.ssl.keystore.type": "PEM", "listener.name.http.ssl.keystore.certificate.chain": f.server.cert,
		"listener.name.http.ssl.keystore.key": f.server.key,
	}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

func TestSettingsFailClosed(t *testing.T) {
	secured := []config.Listener{{Name: "CLIENT", SecurityProtocol: "SASL_SSL"}}
	plain := []config.Listener{{Name: "PLAINTEXT", SecurityProtocol: "PLAINTEXT"}}
	f := newFixture(t)
	for _, tc := range []struct {
		name      string
		props     map[string]string
		listeners []config.Listener
		want      string // "" is no error
	}{
		{"off", map[string]string{}, secured, ""},
		{"open on loopback, secured node", map[string]string{"http.listener": "127.0.0.1:9644"}, secured, ""},
		{"open off loopback, plaintext node", map[string]string{"http.listener": "0.0.0.0:9644"}, plain, ""},
		{"open off loopback, secured node", map[string]string{"http.listener": "0.0.0.0:9644"}, secured, "without authentication"},
		{"basic over plaintext", map[string]string{"http.listener": "127.0.0.1:9644", "http.authentication": "basic"}, plain, "needs http.listener.security.protocol=SSL"},
		{"mtls without truststore", f.tlsProps(map[string]string{"http.authentication": "mtls"}), secured, "truststore"},
		{"ssl without keystore", map[string]string{"http.listener": "127.0.0.1:9644", "http.listener.security.protocol": "SSL"}, plain, "http.listener (SSL)"},
		{"basic over TLS off loopback", f.tlsProps(map[string]string{"http.listener": "0.0.0.0:9644", "http.authentication": "basic"}), secured, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := settingsFor(t, tc.props, tc.listeners)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v; want one containing %q", err, tc.want)
			}
		})
	}
}

type fakeHealth struct{ why []string }

func (h fakeHealth) Live() error     { return nil }
func (h fakeHealth) Ready() []string { return h.why }

func serve(t *testing.T, s Settings, o Options) string {
	t.Helper()
	ln, err := Listen(s)
	if err != nil {
		t.Fatal(err)
	}
	o.Settings, o.Logger = s, zap.NewNop()
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
		o.Registry.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "spool_test_total", Help: "test"}))
	}
	if o.Health == nil {
		o.Health = fakeHealth{}
	}
	srv := NewServer(o)
	srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(t.Context()) })
	return ln.Addr().String()
}

func do(t *testing.T, c *http.Client, method, url, user, pass string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestBasicAuthAgainstScram(t *testing.T) {
	f := newFixture(t)
	s, err := settingsFor(t, f.tlsProps(map[string]string{"http.authentication": "basic"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := security.NewScramCredential(security.ScramSHA512, "s3cret", nil, 4096)
	if err != nil {
		t.Fatal(err)
	}
	lookups := 0
	lookup := func(user string, mech int8) (security.ScramCredential, bool) {
		lookups++
		return cred, user == "ops" && mech == security.ScramSHA512
	}
	addr := serve(t, s, Options{Scram: lookup, Health: fakeHealth{why: []string{"broker: fenced"}}, Console: echoPrincipal})
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.pool}}}
	base := "https://" + addr
	if code, _ := do(t, c, "GET", base+"/metrics", "", ""); code != http.StatusUnauthorized {
		t.Fatalf("no credentials: %d", code)
	}
	if code, _ := do(t, c, "GET", base+"/metrics", "ops", "wrong"); code != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", code)
	}
	if code, _ := do(t, c, "GET", base+"/metrics", "nobody", "s3cret"); code != http.StatusUnauthorized {
		t.Fatalf("unknown user: %d", code)
	}
	for i := 0; i < 2; i++ {
		if code, body := do(t, c, "GET", base+"/metrics", "ops", "s3cret"); code != http.StatusOK || !strings.Contains(body, "spool_test_total 0") {
			t.Fatalf("right password: %d %s", code, body)
		}
	}
	// The console gets the authenticated user as the principal, and
	// nothing without the password.
	if code, body := do(t, c, "GET", base+"/v1/topics", "ops", "s3cret"); code != http.StatusOK || body != "User:ops" {
		t.Fatalf("console as ops: %d %q", code, body)
	}
	if code, _ := do(t, c, "GET", base+"/", "", ""); code != http.StatusUnauthorized {
		t.Fatalf("console without credentials: %d", code)
	}
	// Probes never ask for credentials.
	if code, _ := do(t, c, "GET", base+"/healthz", "", ""); code != http.StatusOK {
		t.Fatalf("/healthz: %d", code)
	}
	if code, body := do(t, c, "GET", base+"/readyz", "", ""); code != http.StatusServiceUnavailable || !strings.Contains(body, "broker: fenced") {
		t.Fatalf("/readyz: %d %q", code, body)
	}
	// Plain HTTP on the TLS port gets nothing.
	if code, _ := do(t, &http.Client{Timeout: 5 * time.Second}, "GET", "http://"+addr+"/metrics", "ops", "s3cret"); code == http.StatusOK {
		t.Fatal("plain HTTP served on the TLS listener")
	}
}

func TestMTLSNeedsATrustedCertificate(t *testing.T) {
	f := newFixture(t)
	s, err := settingsFor(t, f.tlsProps(map[string]string{
		"http.authentication": "mtls", "listener.name.http.ssl.truststore.type": "PEM",
		"listener.name.http.ssl.truststore.certificates": f.ca.cert,
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	base := "https://" + serve(t, s, Options{Console: echoPrincipal})
	anon := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.pool}}}
	if code, _ := do(t, anon, "GET", base+"/metrics", "", ""); code == http.StatusOK {
		t.Fatal("served /metrics without a client certificate")
	}
	cert, err := tls.X509KeyPair([]byte(f.client.cert), []byte(f.client.key))
	if err != nil {
		t.Fatal(err)
	}
	withCert := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.pool, Certificates: []tls.Certificate{cert}}}}
	if code, body := do(t, withCert, "GET", base+"/metrics", "", ""); code != http.StatusOK {
		t.Fatalf("with a trusted certificate: %d %s", code, body)
	}
	// The console gets the certificate's mapped name as the principal.
	if code, body := do(t, withCert, "GET", base+"/", "", ""); code != http.StatusOK || !strings.HasPrefix(body, "User:CN=") {
		t.Fatalf("console with a certificate: %d %q; want the mapped DN", code, body)
	}
}

// echoPrincipal stands in for the console: it answers the principal the
// listener recorded.
var echoPrincipal = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	p, ok := security.PrincipalFromContext(r.Context())
	if !ok {
		http.Error(w, "no principal", http.StatusInternalServerError)
		return
	}
	io.WriteString(w, p.String())
})

// Without authentication the console's principal is ANONYMOUS, as on a
// PLAINTEXT Kafka listener; the probes and /metrics keep their paths.
func TestConsoleMountedAnonymous(t *testing.T) {
	s, err := settingsFor(t, map[string]string{"http.listener": "127.0.0.1:0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + serve(t, s, Options{Console: echoPrincipal})
	c := &http.Client{Timeout: 10 * time.Second}
	if code, body := do(t, c, "GET", base+"/v1/cluster", "", ""); code != http.StatusOK || body != "User:ANONYMOUS" {
		t.Fatalf("console: %d %q", code, body)
	}
	if code, body := do(t, c, "GET", base+"/metrics", "", ""); code != http.StatusOK || !strings.Contains(body, "spool_test_total") {
		t.Fatalf("/metrics beside the console: %d %.80s", code, body)
	}
	if code, body := do(t, c, "GET", base+"/healthz", "", ""); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("/healthz beside the console: %d %q", code, body)
	}
}

func TestLogLevelsChangeAtRunTime(t *testing.T) {
	var buf strings.Builder
	log, levels, err := logging.New(&buf, "json", "info,controller=warn")
	if err != nil {
		t.Fatal(err)
	}
	raft := log.Named("controller").Named("raft")
	raft.Info("hidden")
	log.Named("broker").Info("shown")
	log.Named("request").Debug("hidden too")
	s, _ := settingsFor(t, map[string]string{"http.listener": "127.0.0.1:0"}, nil)
	base := "http://" + serve(t, s, Options{Levels: levels})
	c := &http.Client{Timeout: 10 * time.Second}
	if code, body := do(t, c, "PUT", base+"/v1/loggers/controller.raft?level=debug", "", ""); code != http.StatusOK || !strings.Contains(body, `"controller.raft":"debug"`) {
		t.Fatalf("PUT: %d %s", code, body)
	}
	if code, _ := do(t, c, "PUT", base+"/v1/loggers/root?level=loud", "", ""); code != http.StatusBadRequest {
		t.Fatalf("bad level: %d", code)
	}
	raft.Debug("raft now shown")
	log.Named("controller").Info("controller still hidden")
	if code, _ := do(t, c, "PUT", base+"/v1/loggers/request?level=debug", "", ""); code != http.StatusOK {
		t.Fatal("PUT request logger")
	}
	log.Named("request").Debug("request shown")
	out := buf.String()
	for _, want := range []string{"shown", "raft now shown", "request shown"} {
		if !strings.Contains(out, `"msg":"`+want+`"`) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, hidden := range []string{"hidden", "hidden too", "controller still hidden"} {
		if strings.Contains(out, `"msg":"`+hidden+`"`) {
			t.Errorf("log has %q:\n%s", hidden, out)
		}
	}
	if _, err := logging.ParseLevels("info,debug"); err == nil {
		t.Error("a second bare level was accepted")
	}
}
