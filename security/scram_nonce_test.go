package security

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha512"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// echoingClient is the SCRAM-SHA-512 client of librdkafka before 2.6.1:
// its final message carries its own nonce again in front of the combined
// nonce the server sent. nonce rewrites that attribute for the other cases.
func echoingClient(t *testing.T, ex Exchange, user, pass string, nonce func(clientNonce, serverNonce string) string) (string, error) {
	t.Helper()
	const clientNonce = "rdkafkaNonce0123456789"
	c1b := "n=" + user + ",r=" + clientNonce
	s1, done, err := ex.Step([]byte("n,,"+c1b), time.Now())
	if err != nil || done {
		t.Fatalf("first step: %q %v %v", s1, done, err)
	}
	salt, err := base64.StdEncoding.DecodeString(scramAttr(string(s1), "s"))
	if err != nil {
		t.Fatal(err)
	}
	salted, err := pbkdf2.Key(sha512.New, pass, salt, 4096, sha512.Size)
	if err != nil {
		t.Fatal(err)
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha512.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	storedKey := sha512.Sum512(clientKey)
	withoutProof := "c=biws,r=" + nonce(clientNonce, scramAttr(string(s1), "r"))
	authMsg := c1b + "," + string(s1) + "," + withoutProof
	sig := mac(storedKey[:], authMsg)
	proof := make([]byte, len(sig))
	for i := range sig {
		proof[i] = clientKey[i] ^ sig[i]
	}
	final, done, err := ex.Step([]byte(withoutProof+",p="+base64.StdEncoding.EncodeToString(proof)), time.Now())
	if err != nil {
		return "", err
	}
	if !done {
		t.Fatal("server not done after the client-final message")
	}
	if want := "v=" + base64.StdEncoding.EncodeToString(mac(mac(salted, "Server Key"), authMsg)); string(final) != want {
		t.Fatalf("server signature %q, want %q", final, want)
	}
	return ex.Principal(), nil
}

// Apache Kafka accepts a client-final nonce that ends with the server's
// nonce, so librdkafka before 2.6.1 (Debian's kcat and
// confluent-kafka-python) can log in; it still refuses a wrong password or
// a nonce that is not the server's.
func TestScramEchoedClientNonce(t *testing.T) {
	cred, err := NewScramCredential(ScramSHA512, "alice-secret", nil, 4096)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewScram(ScramSHA512, func(user string, m int8) (ScramCredential, bool) { return cred, user == "alice" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	echo := func(c, s string) string { return c + s }
	exact := func(_, s string) string { return s }
	if p, err := echoingClient(t, srv.Start(), "alice", "alice-secret", echo); err != nil || p != "alice" {
		t.Fatalf("echoed nonce: %q %v", p, err)
	}
	if p, err := echoingClient(t, srv.Start(), "alice", "alice-secret", exact); err != nil || p != "alice" {
		t.Fatalf("exact nonce: %q %v", p, err)
	}
	for name, c := range map[string]struct {
		pass  string
		nonce func(c, s string) string
	}{
		"wrong password, echoed nonce":       {"wrong", echo},
		"nonce not ending with the server's": {"alice-secret", func(c, s string) string { return s + "x" }},
		"client nonce only":                  {"alice-secret", func(c, _ string) string { return c }},
	} {
		_, err := echoingClient(t, srv.Start(), "alice", c.pass, c.nonce)
		if err == nil || !strings.Contains(err.Error(), "invalid credentials with SASL mechanism SCRAM-SHA-512") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
