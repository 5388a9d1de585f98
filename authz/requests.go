package authz

import (
	"crypto/rand"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

// FromCreation is the binding a CreateAcls creation asks for, without an id.
func FromCreation(c *kmsg.CreateACLsRequestCreation) *metadata.ACL {
	return &metadata.ACL{ResourceType: int8(c.ResourceType), ResourceName: c.ResourceName, PatternType: int8(c.ResourcePatternType),
		Principal: c.Principal, Host: c.Host, Operation: int8(c.Operation), Permission: int8(c.PermissionType)}
}

// NewID returns a random binding id (a v4 UUID, as Kafka's Uuid.randomUuid).
func NewID() [16]byte {
	var id [16]byte
	_, _ = rand.Read(id[:])
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return id
}

// SameBinding reports whether two bindings are equal but for their ids.
func SameBinding(a, b *metadata.ACL) bool {
	x, y := *a, *b
	x.ID, y.ID = [16]byte{}, [16]byte{}
	return x == y
}

// DescribeFilter is the filter of a DescribeAcls request.
func DescribeFilter(r *kmsg.DescribeACLsRequest) Filter {
	return Filter{ResourceType: r.ResourceType, ResourceName: r.ResourceName, PatternType: r.ResourcePatternType,
		Principal: r.Principal, Host: r.Host, Operation: r.Operation, Permission: r.PermissionType}
}

// DeleteFilter is one filter of a DeleteAcls request.
func DeleteFilter(f *kmsg.DeleteACLsRequestFilter) Filter {
	return Filter{ResourceType: f.ResourceType, ResourceName: f.ResourceName, PatternType: f.ResourcePatternType,
		Principal: f.Principal, Host: f.Host, Operation: f.Operation, Permission: f.PermissionType}
}

// Describe answers DescribeAcls from acls: the matching bindings grouped
// by resource pattern, or INVALID_REQUEST for a filter with UNKNOWN parts.
func Describe(acls *metadata.ACLs, r *kmsg.DescribeACLsRequest) *kmsg.DescribeACLsResponse {
	resp := r.ResponseKind().(*kmsg.DescribeACLsResponse)
	f := DescribeFilter(r)
	if msg := f.Validate(); msg != "" {
		resp.ErrorCode, resp.ErrorMessage = kerr.InvalidRequest.Code, &msg
		return resp
	}
	type key struct {
		rt   int8
		name string
		pt   int8
	}
	at := map[key]int{}
	for _, a := range acls.Sorted() {
		if !f.Matches(a) {
			continue
		}
		k := key{a.ResourceType, a.ResourceName, a.PatternType}
		i, ok := at[k]
		if !ok {
			res := kmsg.NewDescribeACLsResponseResource()
			res.ResourceType, res.ResourceName = kmsg.ACLResourceType(a.ResourceType), a.ResourceName
			res.ResourcePatternType = kmsg.ACLResourcePatternType(a.PatternType)
			resp.Resources = append(resp.Resources, res)
			i = len(resp.Resources) - 1
			at[k] = i
		}
		e := kmsg.NewDescribeACLsResponseResourceACL()
		e.Principal, e.Host = a.Principal, a.Host
		e.Operation, e.PermissionType = kmsg.ACLOperation(a.Operation), kmsg.ACLPermissionType(a.Permission)
		resp.Resources[i].ACLs = append(resp.Resources[i].ACLs, e)
	}
	return resp
}

// MatchingACL is one binding of a DeleteAcls result.
func MatchingACL(a *metadata.ACL) kmsg.DeleteACLsResponseResultMatchingACL {
	m := kmsg.NewDeleteACLsResponseResultMatchingACL()
	m.ResourceType, m.ResourceName = kmsg.ACLResourceType(a.ResourceType), a.ResourceName
	m.ResourcePatternType = kmsg.ACLResourcePatternType(a.PatternType)
	m.Principal, m.Host = a.Principal, a.Host
	m.Operation, m.PermissionType = kmsg.ACLOperation(a.Operation), kmsg.ACLPermissionType(a.Permission)
	return m
}
