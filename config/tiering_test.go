package config

import (
	"strings"
	"testing"
)

func TestCheckTiering(t *testing.T) {
	static := MustNew(map[string]string{"log.retention.ms": "100000"})
	l := Layers{Static: static}
	on := map[string]string{"remote.storage.enable": "true"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{"remote.storage.enable": "true"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name       string
		prev, next map[string]string
		system     bool
		want       string // "" accepts
	}{
		{"off is always fine", nil, map[string]string{}, false, ""},
		{"system disabled", nil, on, false, "Tiered Storage functionality is disabled in the broker"},
		{"enabled", nil, on, true, ""},
		{"enabled upper case", nil, map[string]string{"remote.storage.enable": "TRUE"}, true, ""},
		{"compacted", nil, with("cleanup.policy", "compact"), true, "unsupported for the compacted topics"},
		{"compact,delete", nil, with("cleanup.policy", "delete,compact"), true, "unsupported for the compacted topics"},
		{"local ms follows", nil, with("local.retention.ms", "-2"), true, ""},
		{"local ms below broker total", nil, with("local.retention.ms", "5000"), true, ""},
		{"local ms above broker total", nil, with("local.retention.ms", "200000"), true, "must not be more than retention.ms property value: 100000"},
		{"local ms above topic total", nil, with("retention.ms", "1000", "local.retention.ms", "2000"), true, "must not be more than retention.ms"},
		{"local ms unlimited under bounded total", nil, with("local.retention.ms", "-1"), true, "must not be -1"},
		{"both unlimited", nil, with("retention.ms", "-1", "local.retention.ms", "-1"), true, ""},
		{"local bytes any under unlimited total", nil, with("local.retention.bytes", "123"), true, ""},
		{"local bytes above total", nil, with("retention.bytes", "100", "local.retention.bytes", "101"), true, "must not be more than retention.bytes"},
		{"local bytes equal total", nil, with("retention.bytes", "100", "local.retention.bytes", "100"), true, ""},
		{"disabling refused", on, map[string]string{}, true, "Disabling remote storage"},
		{"disabling refused explicitly", on, map[string]string{"remote.storage.enable": "false"}, true, "Disabling remote storage"},
	}
	for _, tc := range cases {
		err := CheckTiering(l, tc.prev, tc.next, tc.system)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestLocalRetentionFollowsTotal(t *testing.T) {
	l := Layers{Static: MustNew(map[string]string{"log.retention.bytes": "5000", "log.local.retention.ms": "7"})}
	if got := LocalRetention(l, nil, "local.retention.bytes", "retention.bytes"); got != 5000 {
		t.Errorf("local bytes %d, want the total 5000", got)
	}
	if got := LocalRetention(l, nil, "local.retention.ms", "retention.ms"); got != 7 {
		t.Errorf("local ms %d, want the broker's 7", got)
	}
}

func TestUnknownRemoteStorageKeyIsAProblem(t *testing.T) {
	_, problems, _ := New(map[string]string{"rsm.config.storage.s3.bucket.nmae": "x"})
	if len(problems) != 1 || !strings.Contains(problems[0].Error(), "unknown remote storage setting") {
		t.Fatalf("problems %v", problems)
	}
}
