package security

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	keystore "github.com/pavlo-v-chernykh/keystore-go/v4"
	"github.com/youmark/pkcs8"
	"software.sslmate.com/src/go-pkcs12"
)

// StoreSpec names a keystore or truststore the way Kafka's ssl.* settings
// do. For PEM, Inline holds ssl.keystore.certificate.chain or
// ssl.truststore.certificates and InlineKey ssl.keystore.key.
type StoreSpec struct {
	Type        string // JKS, PKCS12 or PEM
	Location    string
	Password    string
	KeyPassword string
	Inline      string
	InlineKey   string
}

// Empty reports whether nothing names a store.
func (s StoreSpec) Empty() bool { return s.Location == "" && s.Inline == "" && s.InlineKey == "" }

func (s StoreSpec) read() ([]byte, error) {
	b, err := os.ReadFile(s.Location)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.Location, unwrapPathErr(err))
	}
	return b, nil
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// LoadKeystore reads a certificate chain and its private key.
func LoadKeystore(s StoreSpec) (tls.Certificate, error) {
	var cert tls.Certificate
	var err error
	switch strings.ToUpper(s.Type) {
	case "PEM":
		cert, err = loadPEMKeystore(s)
	case "PKCS12":
		cert, err = loadPKCS12Keystore(s)
	case "JKS", "":
		cert, err = loadJKSKeystore(s)
	default:
		err = fmt.Errorf("unknown keystore type %q", s.Type)
	}
	if err != nil {
		return tls.Certificate{}, err
	}
	if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
		return tls.Certificate{}, fmt.Errorf("keystore certificate: %w", err)
	}
	if err := checkKeyMatches(cert); err != nil {
		return tls.Certificate{}, err
	}
	return cert, nil
}

func checkKeyMatches(cert tls.Certificate) error {
	pub, ok := cert.PrivateKey.(crypto.Signer)
	if !ok {
		return fmt.Errorf("keystore private key of type %T cannot sign", cert.PrivateKey)
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if e, ok := pub.Public().(equaler); !ok || !e.Equal(cert.Leaf.PublicKey) {
		return fmt.Errorf("keystore private key does not belong to the certificate for %q", SubjectDN(cert.Leaf))
	}
	return nil
}

func loadPEMKeystore(s StoreSpec) (tls.Certificate, error) {
	if s.Password != "" {
		return tls.Certificate{}, fmt.Errorf("ssl.keystore.password cannot be used with a PEM keystore; set ssl.key.password for an encrypted key")
	}
	chain, key := []byte(s.Inline), []byte(s.InlineKey)
	switch {
	case s.Location != "" && (s.Inline != "" || s.InlineKey != ""):
		return tls.Certificate{}, fmt.Errorf("set either ssl.keystore.location or ssl.keystore.certificate.chain and ssl.keystore.key, not both")
	case s.Location != "":
		b, err := s.read()
		if err != nil {
			return tls.Certificate{}, err
		}
		chain, key = b, b
	case s.Inline == "" || s.InlineKey == "":
		return tls.Certificate{}, fmt.Errorf("a PEM keystore needs both ssl.keystore.certificate.chain and ssl.keystore.key")
	}
	var cert tls.Certificate
	for _, blk := range pemBlocks(chain) {
		if blk.Type == "CERTIFICATE" {
			cert.Certificate = append(cert.Certificate, blk.Bytes)
		}
	}
	if len(cert.Certificate) == 0 {
		return tls.Certificate{}, fmt.Errorf("no PEM CERTIFICATE in the keystore")
	}
	for _, blk := range pemBlocks(key) {
		k, err := parsePEMKey(blk, s.KeyPassword)
		if err != nil {
			return tls.Certificate{}, err
		}
		if k != nil {
			cert.PrivateKey = k
			return cert, nil
		}
	}
	return tls.Certificate{}, fmt.Errorf("no PEM private key in the keystore")
}

// parsePEMKey returns nil for blocks that are not keys.
func parsePEMKey(blk *pem.Block, password string) (crypto.PrivateKey, error) {
	switch blk.Type {
	case "ENCRYPTED PRIVATE KEY":
		if password == "" {
			return nil, fmt.Errorf("the PEM private key is encrypted; set ssl.key.password")
		}
		k, err := pkcs8.ParsePKCS8PrivateKey(blk.Bytes, []byte(password))
		if err != nil {
			return nil, fmt.Errorf("decrypt the PEM private key (wrong ssl.key.password?): %w", err)
		}
		return k, nil
	case "PRIVATE KEY":
		if password != "" {
			// Kafka refuses this too: the operator believes the key is protected.
			return nil, fmt.Errorf("ssl.key.password is set but the PEM private key is not encrypted")
		}
		return x509.ParsePKCS8PrivateKey(blk.Bytes)
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(blk.Bytes)
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(blk.Bytes)
	}
	return nil, nil
}

func pemBlocks(b []byte) []*pem.Block {
	var out []*pem.Block
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return out
		}
		out = append(out, blk)
	}
}

func loadPKCS12Keystore(s StoreSpec) (tls.Certificate, error) {
	b, err := s.read()
	if err != nil {
		return tls.Certificate{}, err
	}
	key, leaf, cas, err := pkcs12.DecodeChain(b, s.Password)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("PKCS12 keystore %s: %w", s.Location, err)
	}
	cert := tls.Certificate{PrivateKey: key, Certificate: [][]byte{leaf.Raw}}
	for _, c := range cas {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	return cert, nil
}

func loadJKSKeystore(s StoreSpec) (tls.Certificate, error) {
	ks, err := readJKS(s)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPass := s.KeyPassword
	if keyPass == "" {
		keyPass = s.Password // Kafka's default for ssl.key.password
	}
	for _, alias := range ks.Aliases() {
		if !ks.IsPrivateKeyEntry(alias) {
			continue
		}
		e, err := ks.GetPrivateKeyEntry(alias, []byte(keyPass))
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("JKS keystore %s, entry %s: %w", s.Location, alias, err)
		}
		key, err := x509.ParsePKCS8PrivateKey(e.PrivateKey)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("JKS keystore %s, entry %s: %w", s.Location, alias, err)
		}
		cert := tls.Certificate{PrivateKey: key}
		for _, c := range e.CertificateChain {
			cert.Certificate = append(cert.Certificate, c.Content)
		}
		if len(cert.Certificate) == 0 {
			return tls.Certificate{}, fmt.Errorf("JKS keystore %s, entry %s has no certificate", s.Location, alias)
		}
		return cert, nil
	}
	return tls.Certificate{}, fmt.Errorf("JKS keystore %s has no private key entry", s.Location)
}

func readJKS(s StoreSpec) (keystore.KeyStore, error) {
	b, err := s.read()
	if err != nil {
		return keystore.KeyStore{}, err
	}
	ks := keystore.New(keystore.WithOrderedAliases())
	if err := ks.Load(bytes.NewReader(b), []byte(s.Password)); err != nil {
		return keystore.KeyStore{}, fmt.Errorf("JKS store %s: %w", s.Location, err)
	}
	return ks, nil
}

// LoadTruststore reads the certificates to trust.
func LoadTruststore(s StoreSpec) (*x509.CertPool, error) {
	var certs []*x509.Certificate
	var err error
	switch strings.ToUpper(s.Type) {
	case "PEM":
		certs, err = loadPEMTruststore(s)
	case "PKCS12":
		var b []byte
		if b, err = s.read(); err == nil {
			if certs, err = pkcs12.DecodeTrustStore(b, s.Password); err != nil {
				err = fmt.Errorf("PKCS12 truststore %s: %w", s.Location, err)
			}
		}
	case "JKS", "":
		certs, err = loadJKSTruststore(s)
	default:
		err = fmt.Errorf("unknown truststore type %q", s.Type)
	}
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("the truststore holds no certificates")
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

func loadPEMTruststore(s StoreSpec) ([]*x509.Certificate, error) {
	if s.Password != "" {
		return nil, fmt.Errorf("ssl.truststore.password cannot be used with a PEM truststore")
	}
	data := []byte(s.Inline)
	switch {
	case s.Location != "" && s.Inline != "":
		return nil, fmt.Errorf("set either ssl.truststore.location or ssl.truststore.certificates, not both")
	case s.Location != "":
		b, err := s.read()
		if err != nil {
			return nil, err
		}
		data = b
	}
	var out []*x509.Certificate
	for _, blk := range pemBlocks(data) {
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("truststore certificate: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}

func loadJKSTruststore(s StoreSpec) ([]*x509.Certificate, error) {
	ks, err := readJKS(s)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for _, alias := range ks.Aliases() {
		var raw [][]byte
		if ks.IsTrustedCertificateEntry(alias) {
			e, err := ks.GetTrustedCertificateEntry(alias)
			if err != nil {
				return nil, err
			}
			raw = append(raw, e.Certificate.Content)
		} else if chain, err := ks.GetPrivateKeyEntryCertificateChain(alias); err == nil && len(chain) > 0 {
			// Java trusts the certificate of a key entry in a truststore too.
			raw = append(raw, chain[0].Content)
		}
		for _, r := range raw {
			c, err := x509.ParseCertificate(r)
			if err != nil {
				return nil, fmt.Errorf("JKS truststore %s, entry %s: %w", s.Location, alias, err)
			}
			out = append(out, c)
		}
	}
	return out, nil
}
