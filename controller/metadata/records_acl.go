package metadata

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kbin"
)

// Record types of ACL bindings (Kafka's numbers).
const (
	TypeAccessControlEntry       int16 = 18
	TypeRemoveAccessControlEntry int16 = 19
)

// ACL is one access control binding in the image: Kafka's StandardAcl with
// the id the controller gave it. The numeric fields carry Kafka's codes
// (ResourceType, PatternType, AclOperation, AclPermissionType).
type ACL struct {
	ID           [16]byte
	ResourceType int8
	ResourceName string
	PatternType  int8
	Principal    string
	Host         string
	Operation    int8
	Permission   int8
}

// AccessControlEntryRecord (type 18, version 0) adds one ACL binding.
type AccessControlEntryRecord struct {
	ACL
	UnknownTags []Tag
}

func (*AccessControlEntryRecord) Type() int16    { return TypeAccessControlEntry }
func (*AccessControlEntryRecord) Version() int16 { return 0 }

func (r *AccessControlEntryRecord) AppendTo(dst []byte) []byte {
	dst = kbin.AppendUuid(dst, r.ID)
	dst = kbin.AppendInt8(dst, r.ResourceType)
	dst = appendStr(dst, r.ResourceName)
	dst = kbin.AppendInt8(dst, r.PatternType)
	dst = appendStr(dst, r.Principal)
	dst = appendStr(dst, r.Host)
	dst = kbin.AppendInt8(dst, r.Operation)
	dst = kbin.AppendInt8(dst, r.Permission)
	return appendTags(dst, nil, r.UnknownTags)
}

func (r *AccessControlEntryRecord) ReadFrom(b []byte, v int16) error {
	if err := checkVersion(v, 0); err != nil {
		return err
	}
	rd := newReader(b)
	r.ID = rd.Uuid()
	r.ResourceType = rd.Int8()
	r.ResourceName = rd.str()
	r.PatternType = rd.Int8()
	r.Principal = rd.str()
	r.Host = rd.str()
	r.Operation = rd.Int8()
	r.Permission = rd.Int8()
	r.UnknownTags = rd.tags(nil)
	return rd.finish()
}

// RemoveAccessControlEntryRecord (type 19, version 0) removes the ACL
// binding with the given id.
type RemoveAccessControlEntryRecord struct {
	ID          [16]byte
	UnknownTags []Tag
}

func (*RemoveAccessControlEntryRecord) Type() int16    { return TypeRemoveAccessControlEntry }
func (*RemoveAccessControlEntryRecord) Version() int16 { return 0 }

func (r *RemoveAccessControlEntryRecord) AppendTo(dst []byte) []byte {
	dst = kbin.AppendUuid(dst, r.ID)
	return appendTags(dst, nil, r.UnknownTags)
}

func (r *RemoveAccessControlEntryRecord) ReadFrom(b []byte, v int16) error {
	if err := checkVersion(v, 0); err != nil {
		return err
	}
	rd := newReader(b)
	r.ID = rd.Uuid()
	r.UnknownTags = rd.tags(nil)
	return rd.finish()
}

// ACLs are the image's ACL bindings. The set is immutable like the image:
// a delta that changes a binding makes a new set, so readers (the
// authorizer's index) can tell a change by the pointer alone.
type ACLs struct {
	byID map[[16]byte]*ACL
}

// Len is the number of bindings.
func (s *ACLs) Len() int {
	if s == nil {
		return 0
	}
	return len(s.byID)
}

// Get returns the binding with id.
func (s *ACLs) Get(id [16]byte) (*ACL, bool) {
	if s == nil {
		return nil, false
	}
	a, ok := s.byID[id]
	return a, ok
}

// Sorted returns every binding in a stable order (resource type, name,
// pattern, principal, host, operation, permission, id).
func (s *ACLs) Sorted() []*ACL {
	if s == nil {
		return nil
	}
	out := make([]*ACL, 0, len(s.byID))
	for _, a := range s.byID {
		out = append(out, a)
	}
	slices.SortFunc(out, compareACL)
	return out
}

func compareACL(a, b *ACL) int {
	return cmp.Or(cmp.Compare(a.ResourceType, b.ResourceType), cmp.Compare(a.ResourceName, b.ResourceName),
		cmp.Compare(a.PatternType, b.PatternType), cmp.Compare(a.Principal, b.Principal), cmp.Compare(a.Host, b.Host),
		cmp.Compare(a.Operation, b.Operation), cmp.Compare(a.Permission, b.Permission), bytes.Compare(a.ID[:], b.ID[:]))
}

// aclDelta changes the bindings copy-on-write.
type aclDelta struct {
	base *ACLs
	next *ACLs
}

func (d *aclDelta) writable() map[[16]byte]*ACL {
	if d.next == nil {
		d.next = &ACLs{byID: map[[16]byte]*ACL{}}
		if d.base != nil {
			for k, v := range d.base.byID {
				d.next.byID[k] = v
			}
		}
	}
	return d.next.byID
}

func (d *aclDelta) current() *ACLs {
	if d.next != nil {
		return d.next
	}
	return d.base
}

func (d *aclDelta) add(r *AccessControlEntryRecord) error {
	if _, ok := d.current().Get(r.ID); ok {
		return fmt.Errorf("ACL id %x already exists", r.ID)
	}
	a := r.ACL
	d.writable()[r.ID] = &a
	return nil
}

func (d *aclDelta) remove(r *RemoveAccessControlEntryRecord) error {
	if _, ok := d.current().Get(r.ID); !ok {
		return fmt.Errorf("no ACL with id %x", r.ID)
	}
	delete(d.writable(), r.ID)
	return nil
}

func (img *Image) appendACLRecords(recs []Record) []Record {
	for _, a := range img.ACLs.Sorted() {
		recs = append(recs, &AccessControlEntryRecord{ACL: *a})
	}
	return recs
}
