package config

import (
	"strings"
	"testing"
)

func TestListenerKeys(t *testing.T) {
	cases := map[string]struct {
		listener, mech, def string
	}{
		"listener.name.sasl_ssl.ssl.keystore.location":               {"SASL_SSL", "", "ssl.keystore.location"},
		"listener.name.client.scram-sha-512.sasl.jaas.config":        {"CLIENT", "SCRAM-SHA-512", "sasl.jaas.config"},
		"listener.name.client.oauthbearer.connections.max.reauth.ms": {"CLIENT", "OAUTHBEARER", "connections.max.reauth.ms"},
		"listener.name.client.sasl.enabled.mechanisms":               {"CLIENT", "", "sasl.enabled.mechanisms"},
		"listener.name.client.log.retention.ms":                      {"CLIENT", "", ""},
		"listener.name.client.plain.ssl.keystore.location":           {"CLIENT", "", ""},
		"listener.name.client.md5.sasl.jaas.config":                  {"CLIENT", "", ""},
	}
	for name, want := range cases {
		lk, ok := LookupListenerKey(name)
		if !ok {
			t.Fatalf("%s: not a listener key", name)
		}
		got := ""
		if lk.Def != nil {
			got = lk.Def.Name
		}
		if got != want.def || (got != "" && (lk.Listener != want.listener || lk.Mechanism != want.mech)) {
			t.Errorf("%s: %+v def %q, want %+v", name, lk, got, want)
		}
	}
	if _, ok := LookupListenerKey("ssl.keystore.location"); ok {
		t.Error("an unprefixed key parsed as a listener key")
	}
}

func TestSecurityKeysAreValidatedOrRefused(t *testing.T) {
	_, problems, unknown := New(map[string]string{
		"ssl.client.auth":                  "sometimes",
		"listener.name.x.ssl.client.auth":  "never",
		"ssl.keymanager.algorithm":         "NewSunX509",
		"sasl.kerberos.service.name":       "kafka",
		"listener.name.x.log.retention.ms": "1",
		"sasl.enabled.mechanisms":          "PLAIN,DIGEST-MD5",
		"principal.builder.class":          "com.example.Builder",
		"some.plugin.setting":              "1",
	})
	keys := map[string]bool{}
	for _, p := range problems {
		keys[p.Key] = true
	}
	for _, k := range []string{"ssl.client.auth", "listener.name.x.ssl.client.auth", "ssl.keymanager.algorithm", "sasl.kerberos.service.name",
		"listener.name.x.log.retention.ms", "sasl.enabled.mechanisms", "principal.builder.class"} {
		if !keys[k] {
			t.Errorf("%s: accepted, want a problem (got %v)", k, problems)
		}
	}
	if len(unknown) != 1 || unknown[0] != "some.plugin.setting" {
		t.Errorf("unknown = %v: only non-security keys are warnings", unknown)
	}
}

func TestListenerValuePrecedence(t *testing.T) {
	c := MustNew(map[string]string{
		"ssl.client.auth":                               "requested",
		"listener.name.internal.ssl.client.auth":        "required",
		"sasl.jaas.config":                              "a",
		"listener.name.internal.sasl.jaas.config":       "b",
		"listener.name.internal.plain.sasl.jaas.config": "c",
	})
	if got := c.ListenerValue("INTERNAL", "ssl.client.auth"); got != "required" {
		t.Errorf("prefixed = %q", got)
	}
	if got := c.ListenerValue("CLIENT", "ssl.client.auth"); got != "requested" {
		t.Errorf("broker-wide = %q", got)
	}
	if got := c.ListenerValue("CLIENT", "ssl.endpoint.identification.algorithm"); got != "https" {
		t.Errorf("default = %q", got)
	}
	for mech, want := range map[string]string{"PLAIN": "c", "SCRAM-SHA-256": "b"} {
		if got := c.MechanismValue("internal", mech, "sasl.jaas.config"); got != want {
			t.Errorf("%s jaas = %q, want %q", mech, got, want)
		}
	}
	if got := c.MechanismValue("CLIENT", "PLAIN", "sasl.jaas.config"); got != "a" {
		t.Errorf("fallback jaas = %q", got)
	}
}

func TestSecurityInterBrokerProtocol(t *testing.T) {
	base := map[string]string{
		"process.roles": "broker", "node.id": "1", "controller.listener.names": "CONTROLLER",
		"controller.quorum.voters": "1@localhost:9093", "listeners": "PLAINTEXT://:9092,SSL://:9094",
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for kk, vv := range base {
			m[kk] = vv
		}
		return m
	}
	n, ps := MustNew(with("security.inter.broker.protocol", "SSL")).Node()
	if len(ps) > 0 || n.InterBrokerListener != "SSL" {
		t.Fatalf("%v %v", n.InterBrokerListener, ps)
	}
	m := with("security.inter.broker.protocol", "SSL")
	m["inter.broker.listener.name"] = "PLAINTEXT"
	if _, ps := MustNew(m).Node(); len(ps) == 0 || !strings.Contains(ps[0].Message, "only one") {
		t.Fatalf("both set: %v", ps)
	}
}
