package consumergroup

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Failure is an error for the client with Kafka's message.
type Failure struct {
	Err *kerr.Error
	Msg string
}

func fail(err *kerr.Error, format string, args ...any) *Failure {
	return &Failure{Err: err, Msg: fmt.Sprintf(format, args...)}
}

// ValidateHeartbeat is Kafka's check of a ConsumerGroupHeartbeat before it
// reaches a group; nil means valid.
func ValidateHeartbeat(r *kmsg.ConsumerGroupHeartbeatRequest, cfg *Config) *Failure {
	if (r.Version >= 1 || r.MemberEpoch > 0 || r.MemberEpoch == LeaveEpoch) && blank(r.MemberID) {
		return fail(kerr.InvalidRequest, "MemberId can't be empty.")
	}
	switch {
	case blank(r.Group):
		return fail(kerr.InvalidRequest, "GroupId can't be empty.")
	case r.InstanceID != nil && blank(*r.InstanceID):
		return fail(kerr.InvalidRequest, "InstanceId can't be empty.")
	case r.RackID != nil && blank(*r.RackID):
		return fail(kerr.InvalidRequest, "RackId can't be empty.")
	}
	switch {
	case r.MemberEpoch == 0:
		if r.RebalanceTimeoutMillis == -1 {
			return fail(kerr.InvalidRequest, "RebalanceTimeoutMs must be provided in first request.")
		}
		if r.Topics == nil || len(r.Topics) > 0 {
			return fail(kerr.InvalidRequest, "TopicPartitions must be empty when (re-)joining.")
		}
		if r.SubscribedTopicNames == nil && r.SubscribedTopicRegex == nil {
			return fail(kerr.InvalidRequest, "Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.")
		}
	case r.MemberEpoch == LeaveStaticEpoch:
		if r.InstanceID == nil {
			return fail(kerr.InvalidRequest, "InstanceId can't be null.")
		}
	case r.MemberEpoch < LeaveStaticEpoch:
		return fail(kerr.InvalidRequest, "MemberEpoch is invalid.")
	}
	if r.ServerAssignor != nil && !cfg.hasAssignor(*r.ServerAssignor) {
		return fail(kerr.UnsupportedAssignor, "ServerAssignor %s is not supported. Supported assignors: %s.",
			*r.ServerAssignor, strings.Join(cfg.Assignors, ", "))
	}
	return nil
}

// blank is Kafka's "empty after trim".
func blank(s string) bool { return strings.TrimSpace(s) == "" }

// compileRegex checks a subscribed regular expression. Kafka compiles
// them with RE2/J; Go's regexp is RE2 too, so both accept the same
// patterns and match whole topic names.
func compileRegex(s string) (*regexp.Regexp, *Failure) {
	re, err := regexp.Compile(`^(?:` + s + `)$`)
	if err != nil {
		if _, plain := regexp.Compile(s); plain != nil {
			err = plain
		}
		return nil, fail(kerr.InvalidRegularExpression, "SubscribedTopicRegex `%s` is not a valid regular expression: %s.", s, reasonOf(err))
	}
	return re, nil
}

func reasonOf(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return string(se.Code)
	}
	return err.Error()
}
