package security

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"regexp"
	"strings"
)

// Principal is who a connection authenticated as, Kafka's KafkaPrincipal:
// a type (always "User" here) and a name.
type Principal struct {
	Type string
	Name string
}

// Anonymous is the principal of a PLAINTEXT connection, and of an SSL
// connection without a client certificate.
var Anonymous = Principal{Type: "User", Name: "ANONYMOUS"}

// User is the principal for a name.
func User(name string) Principal { return Principal{Type: "User", Name: name} }

func (p Principal) String() string { return p.Type + ":" + p.Name }

// SubjectDN is a certificate's subject in RFC 2253 form, most specific
// attribute first, as Java's X500Principal.getName() prints it. It reads
// the raw subject so the attributes keep the certificate's order.
func SubjectDN(cert *x509.Certificate) string {
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(cert.RawSubject, &seq); err != nil || len(rest) > 0 {
		return cert.Subject.String()
	}
	return seq.String()
}

// PrincipalMapper maps a certificate's distinguished name to a principal
// name with ssl.principal.mapping.rules.
type PrincipalMapper struct {
	rules []mappingRule
	text  string
}

type mappingRule struct {
	isDefault bool
	pattern   *regexp.Regexp
	template  string
	caseFold  byte // 'L', 'U' or 0
}

// ParsePrincipalMappingRules parses Kafka's rule list: comma-separated
// DEFAULT or RULE:pattern/replacement/[LU] entries, where a pattern or
// replacement may contain commas and escaped slashes (\/).
func ParsePrincipalMappingRules(s string) (*PrincipalMapper, error) {
	m := &PrincipalMapper{text: s}
	rest := strings.TrimSpace(s)
	if rest == "" {
		rest = "DEFAULT"
	}
	for rest != "" {
		var r mappingRule
		var err error
		switch {
		case strings.HasPrefix(rest, "DEFAULT"):
			r.isDefault = true
			rest = rest[len("DEFAULT"):]
		case strings.HasPrefix(rest, "RULE:"):
			r, rest, err = parseRule(rest[len("RULE:"):])
			if err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("invalid rule %q: expected DEFAULT or RULE:pattern/replacement/[LU]", rest)
		}
		m.rules = append(m.rules, r)
		rest = strings.TrimSpace(rest)
		if rest == "" {
			break
		}
		if rest[0] != ',' {
			return nil, fmt.Errorf("invalid rule text %q after a rule: expected a comma", rest)
		}
		rest = strings.TrimSpace(rest[1:])
		if rest == "" {
			return nil, fmt.Errorf("a rule list may not end with a comma")
		}
	}
	return m, nil
}

// parseRule reads pattern/replacement/[LU] and returns what follows.
func parseRule(s string) (mappingRule, string, error) {
	pat, s, ok := cutUnescapedSlash(s)
	if !ok {
		return mappingRule{}, "", fmt.Errorf("invalid rule: missing '/' after the pattern %q", pat)
	}
	repl, s, ok := cutUnescapedSlash(s)
	if !ok {
		return mappingRule{}, "", fmt.Errorf("invalid rule: missing '/' after the replacement %q", repl)
	}
	// Java's matches() needs the whole name to match.
	re, err := regexp.Compile("^(?:" + pat + ")$")
	if err != nil {
		return mappingRule{}, "", fmt.Errorf("invalid rule pattern %q: %v", pat, err)
	}
	r := mappingRule{pattern: re, template: javaTemplate(repl)}
	if s != "" && (s[0] == 'L' || s[0] == 'U') {
		r.caseFold = s[0]
		s = s[1:]
	}
	return r, s, nil
}

// cutUnescapedSlash splits at the first '/' not preceded by a backslash and
// unescapes \/ in the part before it.
func cutUnescapedSlash(s string) (before, after string, ok bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == '/':
			b.WriteByte('/')
			i++
		case s[i] == '/':
			return b.String(), s[i+1:], true
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), "", false
}

// javaTemplate rewrites Java's $1 group references as ${1}, since Go reads
// $1x as a group named "1x".
var javaGroupRef = regexp.MustCompile(`\$(\d+)`)

func javaTemplate(s string) string { return javaGroupRef.ReplaceAllString(s, "$${$1}") }

// Map returns the principal name for dn: the result of the first rule that
// matches, or an error when none does (Kafka refuses the connection then).
func (m *PrincipalMapper) Map(dn string) (string, error) {
	for _, r := range m.rules {
		if r.isDefault {
			return dn, nil
		}
		idx := r.pattern.FindStringSubmatchIndex(dn)
		if idx == nil {
			continue
		}
		out := string(r.pattern.ExpandString(nil, r.template, dn, idx))
		switch r.caseFold {
		case 'L':
			out = strings.ToLower(out)
		case 'U':
			out = strings.ToUpper(out)
		}
		return out, nil
	}
	return "", fmt.Errorf("no rule of ssl.principal.mapping.rules (%s) applies to %q", m.text, dn)
}
