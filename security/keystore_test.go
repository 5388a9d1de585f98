package security

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	keystore "github.com/pavlo-v-chernykh/keystore-go/v4"
	"github.com/youmark/pkcs8"
	"software.sslmate.com/src/go-pkcs12"
)

func TestLoadKeystoreFormats(t *testing.T) {
	ca := newCA(t, "ca")
	l := ca.issue(t, pkix.Name{CommonName: "broker"})
	kder, _ := x509.MarshalPKCS8PrivateKey(l.key)
	encDER, err := pkcs8.MarshalPrivateKey(l.key, []byte("keypw"), nil)
	if err != nil {
		t.Fatal(err)
	}
	encPEM := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: encDER})
	p12, err := pkcs12.Modern.Encode(l.key, l.cert, []*x509.Certificate{ca.cert}, "storepw")
	if err != nil {
		t.Fatal(err)
	}
	jks := keystore.New()
	if err := jks.SetPrivateKeyEntry("broker", keystore.PrivateKeyEntry{CreationTime: time.Now(), PrivateKey: kder,
		CertificateChain: []keystore.Certificate{{Type: "X509", Content: l.cert.Raw}, {Type: "X509", Content: ca.cert.Raw}}}, []byte("keypassword")); err != nil {
		t.Fatal(err)
	}
	var jksBuf bytes.Buffer
	if err := jks.Store(&jksBuf, []byte("storepassword")); err != nil {
		t.Fatal(err)
	}
	specs := map[string]StoreSpec{
		"PEM file":      l.pemKeystore(t),
		"PEM inline":    {Type: "PEM", Inline: string(l.certPEM), InlineKey: string(l.keyPEM)},
		"PEM encrypted": {Type: "PEM", Inline: string(l.certPEM), InlineKey: string(encPEM), KeyPassword: "keypw"},
		"PKCS12":        {Type: "PKCS12", Location: writeFile(t, "ks.p12", p12), Password: "storepw"},
		"JKS":           {Type: "JKS", Location: writeFile(t, "ks.jks", jksBuf.Bytes()), Password: "storepassword", KeyPassword: "keypassword"},
	}
	for name, spec := range specs {
		cert, err := LoadKeystore(spec)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if cert.Leaf.Subject.CommonName != "broker" {
			t.Errorf("%s: leaf %v", name, cert.Leaf.Subject)
		}
	}
}

func TestLoadKeystoreErrors(t *testing.T) {
	ca := newCA(t, "ca")
	l := ca.issue(t, pkix.Name{CommonName: "broker"})
	other := ca.issue(t, pkix.Name{CommonName: "other"})
	encDER, _ := pkcs8.MarshalPrivateKey(l.key, []byte("keypw"), nil)
	encPEM := string(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: encDER}))
	p12, _ := pkcs12.Modern.Encode(l.key, l.cert, nil, "storepw")
	cases := map[string]struct {
		spec StoreSpec
		want string
	}{
		"missing file":      {StoreSpec{Type: "PEM", Location: "/nonexistent/ks.pem"}, "no such file"},
		"key of other cert": {StoreSpec{Type: "PEM", Inline: string(l.certPEM), InlineKey: string(other.keyPEM)}, "does not belong"},
		"no key":            {StoreSpec{Type: "PEM", Inline: string(l.certPEM), InlineKey: string(l.certPEM)}, "no PEM private key"},
		"only chain":        {StoreSpec{Type: "PEM", Inline: string(l.certPEM)}, "needs both"},
		"encrypted no pw":   {StoreSpec{Type: "PEM", Inline: string(l.certPEM), InlineKey: encPEM}, "set ssl.key.password"},
		"encrypted bad pw":  {StoreSpec{Type: "PEM", Inline: string(l.certPEM), InlineKey: encPEM, KeyPassword: "nope"}, "wrong ssl.key.password"},
		"pw on plain key":   {StoreSpec{Type: "PEM", Inline: string(l.certPEM), InlineKey: string(l.keyPEM), KeyPassword: "x"}, "not encrypted"},
		"PEM store pw":      {StoreSpec{Type: "PEM", Inline: string(l.certPEM), InlineKey: string(l.keyPEM), Password: "x"}, "cannot be used"},
		"PKCS12 bad pw":     {StoreSpec{Type: "PKCS12", Location: writeFile(t, "ks.p12", p12), Password: "wrong"}, "PKCS12 keystore"},
		"JKS garbage":       {StoreSpec{Type: "JKS", Location: writeFile(t, "ks.jks", []byte("not a keystore")), Password: "x"}, "JKS store"},
	}
	for name, c := range cases {
		if _, err := LoadKeystore(c.spec); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
}

func TestLoadTruststoreFormats(t *testing.T) {
	ca := newCA(t, "ca")
	l := ca.issue(t, pkix.Name{CommonName: "broker"})
	p12, err := pkcs12.Modern.EncodeTrustStore([]*x509.Certificate{ca.cert}, "trustpw")
	if err != nil {
		t.Fatal(err)
	}
	jks := keystore.New()
	jks.SetTrustedCertificateEntry("ca", keystore.TrustedCertificateEntry{CreationTime: time.Now(), Certificate: keystore.Certificate{Type: "X509", Content: ca.cert.Raw}})
	var jksBuf bytes.Buffer
	if err := jks.Store(&jksBuf, []byte("trustpassword")); err != nil {
		t.Fatal(err)
	}
	specs := map[string]StoreSpec{
		"PEM file":   ca.pemTruststore(t),
		"PEM inline": {Type: "PEM", Inline: string(ca.pem)},
		"PKCS12":     {Type: "PKCS12", Location: writeFile(t, "ts.p12", p12), Password: "trustpw"},
		"JKS":        {Type: "JKS", Location: writeFile(t, "ts.jks", jksBuf.Bytes()), Password: "trustpassword"},
	}
	for name, spec := range specs {
		pool, err := LoadTruststore(spec)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if _, err := l.cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "localhost"}); err != nil {
			t.Errorf("%s: the CA does not verify its certificate: %v", name, err)
		}
	}
	if _, err := LoadTruststore(StoreSpec{Type: "PEM", Inline: "nothing here"}); err == nil {
		t.Error("an empty PEM truststore was accepted")
	}
}
