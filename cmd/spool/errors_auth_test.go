package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestAuthFailureMessages(t *testing.T) {
	sec := secured{file: "admin.properties", protocol: "SASL_SSL", mechanism: "PLAIN"}
	for _, c := range []struct {
		err  error
		want []string
	}{
		{fmt.Errorf("%w: %s", kerr.SaslAuthenticationFailed, "bad password for alice"),
			[]string{"authentication failed at h:9092 (SASL_AUTHENTICATION_FAILED): bad password for alice", "in admin.properties"}},
		{kerr.SaslAuthenticationFailed, []string{"authentication failed at h:9092 (SASL_AUTHENTICATION_FAILED): " + kerr.SaslAuthenticationFailed.Description}},
		{kerr.UnsupportedSaslMechanism, []string{"does not enable SASL mechanism PLAIN"}},
		{kerr.IllegalSaslState, []string{"does not take SASL", "security.protocol in admin.properties"}},
	} {
		got := authFailure("h:9092", c.err, sec)
		if got == nil {
			t.Fatalf("%v: no explanation", c.err)
		}
		for _, w := range c.want {
			if !strings.Contains(got.Error(), w) {
				t.Errorf("%v: %q lacks %q", c.err, got, w)
			}
		}
	}
	if got := authFailure("h:9092", kerr.TopicAuthorizationFailed, sec); got != nil {
		t.Errorf("an authorization error is not a login failure: %v", got)
	}
	if got := authFailure("h:9092", errors.New("connection refused"), secured{}); got != nil {
		t.Errorf("a network error is not a login failure: %v", got)
	}
	if got := authFailure("h:9092", kerr.SaslAuthenticationFailed, secured{}); !strings.Contains(got.Error(), "pass --command-config") {
		t.Errorf("without --command-config: %v", got)
	}
}
