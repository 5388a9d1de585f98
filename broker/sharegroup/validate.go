package sharegroup

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ValidateHeartbeat checks a ShareGroupHeartbeat the way Kafka's group
// coordinator does before it looks at the group, returning the message
// of an INVALID_REQUEST answer, or "" when the request is well formed.
func ValidateHeartbeat(r *kmsg.ShareGroupHeartbeatRequest) string {
	switch {
	case r.GroupID == "":
		return "GroupId can't be empty."
	case r.MemberID == "":
		return "MemberId can't be empty."
	case len(r.MemberID) > 36*4:
		return "MemberId is too long."
	case r.MemberEpoch < -1:
		return "MemberEpoch is invalid."
	case r.MemberEpoch == 0 && len(r.SubscribedTopicNames) == 0:
		return "SubscribedTopicNames must be set in first request."
	}
	return ""
}

// InvalidHeartbeat is the INVALID_REQUEST answer carrying msg.
func InvalidHeartbeat(r *kmsg.ShareGroupHeartbeatRequest, msg string) *kmsg.ShareGroupHeartbeatResponse {
	return HeartbeatError(r, kerr.InvalidRequest, msg)
}
