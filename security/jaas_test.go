package security

import (
	"strings"
	"testing"
)

func TestParseJAAS(t *testing.T) {
	m, err := ParseJAAS(`org.apache.kafka.common.security.plain.PlainLoginModule required
		username="admin" password='admin-secret' /* a comment */ user_admin="admin-secret"
		user_alice=alice-pw // trailing comment
		user_bob="with \"quote\" and ; semicolon";`)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != PlainLoginModule || m.Flag != "required" {
		t.Fatalf("module %q flag %q", m.Name, m.Flag)
	}
	want := map[string]string{"username": "admin", "password": "admin-secret", "user_admin": "admin-secret", "user_alice": "alice-pw"}
	for k, v := range want {
		if m.Options[k] != v {
			t.Errorf("option %s = %q, want %q", k, m.Options[k], v)
		}
	}
	if got := m.Options["user_bob"]; got != `with "quote" and ; semicolon` {
		t.Errorf("user_bob = %q", got)
	}
}

func TestParseJAASErrors(t *testing.T) {
	cases := map[string]string{
		"":                              "exactly one",
		"a.B required;  c.D required;":  "exactly one",
		"a.B required x=1":              "closing ';'",
		"a.B mandatory x=1;":            "control flag",
		"a.B required x=;":              "has no value",
		"a.B required x;":               "needs =value",
		`a.B required x="unterminated;`: "unterminated",
		"a.B required x=1 x=2;":         "twice",
		"a.B required /* open":          "unterminated /*",
		"= required;":                   "class name",
	}
	for in, want := range cases {
		_, err := ParseJAAS(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseJAAS(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}
