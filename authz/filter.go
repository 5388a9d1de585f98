package authz

import (
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

// Filter selects bindings for DescribeAcls and DeleteAcls, with Kafka's
// AclBindingFilter rules: ANY matches every value, a nil name, principal
// or host matches all, and the MATCH pattern type selects every binding
// that would apply to the named resource (the literal name, the LITERAL
// wildcard and every PREFIXED binding the name starts with).
type Filter struct {
	ResourceType kmsg.ACLResourceType
	ResourceName *string
	PatternType  kmsg.ACLResourcePatternType
	Principal    *string
	Host         *string
	Operation    kmsg.ACLOperation
	Permission   kmsg.ACLPermissionType
}

// Validate says what is wrong with a filter, "" if nothing: a filter may
// not hold UNKNOWN values.
func (f Filter) Validate() string {
	switch {
	case f.ResourceType == kmsg.ACLResourceTypeUnknown || f.ResourceType > kmsg.ACLResourceTypeUser || f.ResourceType < 0:
		return "Unknown resource type in the filter"
	case f.PatternType == kmsg.ACLResourcePatternTypeUnknown || f.PatternType > kmsg.ACLResourcePatternTypePrefixed || f.PatternType < 0:
		return "Unknown pattern type in the filter"
	case f.Operation == kmsg.ACLOperationUnknown || f.Operation > kmsg.ACLOperationDescribeTokens+1 || f.Operation < 0:
		return "Unknown operation in the filter"
	case f.Permission == kmsg.ACLPermissionTypeUnknown || f.Permission > kmsg.ACLPermissionTypeAllow || f.Permission < 0:
		return "Unknown permission type in the filter"
	}
	return ""
}

// Matches reports whether binding a passes the filter.
func (f Filter) Matches(a *metadata.ACL) bool {
	if f.ResourceType != kmsg.ACLResourceTypeAny && int8(f.ResourceType) != a.ResourceType {
		return false
	}
	if !f.matchesPattern(kmsg.ACLResourcePatternType(a.PatternType), a.ResourceName) {
		return false
	}
	if f.Principal != nil && *f.Principal != a.Principal {
		return false
	}
	if f.Host != nil && *f.Host != a.Host {
		return false
	}
	if f.Operation != kmsg.ACLOperationAny && int8(f.Operation) != a.Operation {
		return false
	}
	return f.Permission == kmsg.ACLPermissionTypeAny || int8(f.Permission) == a.Permission
}

func (f Filter) matchesPattern(pt kmsg.ACLResourcePatternType, name string) bool {
	if f.PatternType != kmsg.ACLResourcePatternTypeAny && f.PatternType != kmsg.ACLResourcePatternTypeMatch && f.PatternType != pt {
		return false
	}
	if f.ResourceName == nil {
		return true
	}
	want := *f.ResourceName
	if f.PatternType == kmsg.ACLResourcePatternTypeAny || f.PatternType == pt {
		return want == name
	}
	switch pt {
	case kmsg.ACLResourcePatternTypeLiteral:
		return want == name || name == WildcardResource
	case kmsg.ACLResourcePatternTypePrefixed:
		return strings.HasPrefix(want, name)
	}
	return false
}

// ValidateNew says what is wrong with a binding to be created, "" if
// nothing (Kafka's checks, all answered with INVALID_REQUEST).
func ValidateNew(a *metadata.ACL) string {
	rt := kmsg.ACLResourceType(a.ResourceType)
	switch {
	case rt <= kmsg.ACLResourceTypeAny || rt > kmsg.ACLResourceTypeUser:
		return "Invalid resource type " + rt.String()
	case a.PatternType != int8(kmsg.ACLResourcePatternTypeLiteral) && a.PatternType != int8(kmsg.ACLResourcePatternTypePrefixed):
		return "Invalid pattern type " + kmsg.ACLResourcePatternType(a.PatternType).String()
	case a.Operation <= int8(kmsg.ACLOperationAny) || a.Operation > int8(kmsg.ACLOperationDescribeTokens)+1:
		return "Invalid operation " + kmsg.ACLOperation(a.Operation).String()
	case a.Permission != int8(kmsg.ACLPermissionTypeAllow) && a.Permission != int8(kmsg.ACLPermissionTypeDeny):
		return "Invalid permission type " + kmsg.ACLPermissionType(a.Permission).String()
	case a.ResourceName == "":
		return "Resource name should not be empty"
	case rt == kmsg.ACLResourceTypeCluster && a.ResourceName != ClusterName:
		return "The only valid name for the CLUSTER resource is " + ClusterName
	case a.Host == "":
		return "Host should not be empty"
	}
	if _, err := ParsePrincipal(a.Principal); err != nil {
		return "Could not parse principal from `" + a.Principal + "`: " + err.Error()
	}
	return ""
}
