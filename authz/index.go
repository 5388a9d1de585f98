package authz

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

// index finds the bindings that apply to a resource without scanning them
// all: per resource type, literal bindings by name and prefixed bindings
// by prefix, with the prefix lengths in use so a lookup tries only those.
type index struct {
	set   *metadata.ACLs
	types map[kmsg.ACLResourceType]*typeIndex
}

type typeIndex struct {
	literal    map[string][]*metadata.ACL
	prefixed   map[string][]*metadata.ACL
	prefixLens []int
}

func buildIndex(acls *metadata.ACLs) *index {
	ix := &index{set: acls, types: map[kmsg.ACLResourceType]*typeIndex{}}
	for _, a := range acls.Sorted() {
		rt := kmsg.ACLResourceType(a.ResourceType)
		t := ix.types[rt]
		if t == nil {
			t = &typeIndex{literal: map[string][]*metadata.ACL{}, prefixed: map[string][]*metadata.ACL{}}
			ix.types[rt] = t
		}
		switch kmsg.ACLResourcePatternType(a.PatternType) {
		case kmsg.ACLResourcePatternTypeLiteral:
			t.literal[a.ResourceName] = append(t.literal[a.ResourceName], a)
		case kmsg.ACLResourcePatternTypePrefixed:
			if len(t.prefixed[a.ResourceName]) == 0 {
				t.prefixLens = append(t.prefixLens, len(a.ResourceName))
			}
			t.prefixed[a.ResourceName] = append(t.prefixed[a.ResourceName], a)
		}
	}
	for _, t := range ix.types {
		slices.Sort(t.prefixLens)
		t.prefixLens = slices.Compact(t.prefixLens)
	}
	return ix
}

// match reports whether a binding on the action's resource allows it for
// principal at host, whether one denies it, and whether any binding names
// the resource at all (for allow.everyone.if.no.acl.found).
func (ix *index) match(principal, host string, act Action) (allowed, denied, found bool) {
	t := ix.types[act.Type]
	if t == nil {
		return false, false, false
	}
	check := func(list []*metadata.ACL) {
		for _, a := range list {
			found = true
			switch result(a, principal, host, act.Op) {
			case kmsg.ACLPermissionTypeAllow:
				allowed = true
			case kmsg.ACLPermissionTypeDeny:
				denied = true
			}
		}
	}
	check(t.literal[act.Name])
	if act.Name != WildcardResource {
		check(t.literal[WildcardResource])
	}
	for _, n := range t.prefixLens {
		if n > len(act.Name) {
			break
		}
		check(t.prefixed[act.Name[:n]])
	}
	return allowed, denied, found
}

// result is what binding a says about op for principal at host: ALLOW,
// DENY, or Unknown when it does not apply. An ALLOW for READ, WRITE,
// DELETE or ALTER implies DESCRIBE, one for ALTER_CONFIGS implies
// DESCRIBE_CONFIGS; a DENY implies nothing beyond its own operation.
func result(a *metadata.ACL, principal, host string, op kmsg.ACLOperation) kmsg.ACLPermissionType {
	if !principalMatches(a.Principal, principal) || (a.Host != WildcardHost && a.Host != host) {
		return kmsg.ACLPermissionTypeUnknown
	}
	perm := kmsg.ACLPermissionType(a.Permission)
	aop := kmsg.ACLOperation(a.Operation)
	if aop == kmsg.ACLOperationAll || aop == op {
		return perm
	}
	if perm != kmsg.ACLPermissionTypeAllow {
		return kmsg.ACLPermissionTypeUnknown
	}
	switch op {
	case kmsg.ACLOperationDescribe:
		if aop == kmsg.ACLOperationRead || aop == kmsg.ACLOperationWrite || aop == kmsg.ACLOperationDelete || aop == kmsg.ACLOperationAlter {
			return perm
		}
	case kmsg.ACLOperationDescribeConfigs:
		if aop == kmsg.ACLOperationAlterConfigs {
			return perm
		}
	}
	return kmsg.ACLPermissionTypeUnknown
}
