package security

import (
	"crypto/x509/pkix"
	"strings"
	"testing"
)

func TestPrincipalMappingRules(t *testing.T) {
	// Kafka's documented examples, plus a comma inside a pattern.
	rules := `RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,
		RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,
		RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U,
		RULE:^UID=x\/y,(.*)$/slash-$1/,
		DEFAULT`
	m, err := ParsePrincipalMappingRules(rules)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"CN=kafka-broker,OU=ServiceUsers,O=Org,C=US":           "kafka-broker",
		"CN=adminUser,OU=Admin,O=Org,L=SF,ST=CA,C=US":          "adminuser@admin",
		"CN=client1.example.com,OU=Eng":                        "CLIENT1.EXAMPLE.COM",
		"UID=x/y,O=Org":                                        "slash-O=Org",
		"O=NoCommonName":                                       "O=NoCommonName",
		"CN=svc,OU=ServiceUsers":                               "svc",
		"EMAILADDRESS=a@b,CN=kafka-broker,OU=ServiceUsers,O=X": "KAFKA",
	}
	for dn, want := range cases {
		got, err := m.Map(dn)
		if err != nil || got != want {
			t.Errorf("Map(%q) = %q, %v; want %q", dn, got, err, want)
		}
	}
}

func TestPrincipalMappingNoDefault(t *testing.T) {
	m, err := ParsePrincipalMappingRules(`RULE:^CN=([^,]*),O=Spool$/$1/`)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := m.Map("CN=alice,O=Spool"); err != nil || got != "alice" {
		t.Fatalf("Map = %q, %v", got, err)
	}
	if _, err := m.Map("CN=mallory,O=Elsewhere"); err == nil || !strings.Contains(err.Error(), "no rule") {
		t.Fatalf("unmatched DN: err = %v, want no rule applies", err)
	}
}

func TestPrincipalMappingRuleErrors(t *testing.T) {
	for _, bad := range []string{"RULE:abc", "RULE:a/b", "NOPE", "DEFAULT,", "RULE:(/x/", "DEFAULT DEFAULT"} {
		if _, err := ParsePrincipalMappingRules(bad); err == nil {
			t.Errorf("ParsePrincipalMappingRules(%q) accepted", bad)
		}
	}
	if m, err := ParsePrincipalMappingRules(""); err != nil {
		t.Fatal(err)
	} else if got, _ := m.Map("CN=x"); got != "CN=x" {
		t.Fatalf("empty rules map to %q, want DEFAULT", got)
	}
}

func TestSubjectDNKeepsCertificateOrder(t *testing.T) {
	ca := newCA(t, "ca")
	l := ca.issue(t, pkix.Name{CommonName: "alice", OrganizationalUnit: []string{"eng"}, Organization: []string{"Spool"}, Country: []string{"US"}})
	// RFC 2253: most specific first, as Java's X500Principal.getName().
	if got, want := SubjectDN(l.cert), "CN=alice,OU=eng,O=Spool,C=US"; got != want {
		t.Fatalf("SubjectDN = %q, want %q", got, want)
	}
}
