package authz

import (
	"fmt"
	"net"
	"strings"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/config"
	"spool/controller/metadata"
	"spool/security"
)

// StandardAuthorizer is Kafka's KRaft authorizer class; Spool accepts its
// name in authorizer.class.name so a Kafka server.properties carries over.
const StandardAuthorizer = config.StandardAuthorizerClass

// ClusterName is the only name of the CLUSTER resource.
const ClusterName = "kafka-cluster"

// Wildcards: a LITERAL "*" resource name matches every name of its type,
// "User:*" every user principal and "*" every host.
const (
	WildcardResource  = "*"
	WildcardPrincipal = "User:*"
	WildcardHost      = "*"
)

// Authorizer decides whether a principal may perform an operation on a
// resource. A nil *Authorizer authorizes everything: no authorizer is
// configured.
type Authorizer struct {
	superUsers   map[string]bool
	allowIfNoACL bool
	// idx caches the index of the last ACL set seen; sets are immutable,
	// so the pointer says whether it is still current.
	idx atomic.Pointer[index]
}

// Config is what the authorizer reads from the node's configuration.
type Config struct {
	SuperUsers   []string // principals such as "User:admin"
	AllowIfNoACL bool
}

// New returns an authorizer.
func New(c Config) *Authorizer {
	a := &Authorizer{superUsers: map[string]bool{}, allowIfNoACL: c.AllowIfNoACL}
	for _, u := range c.SuperUsers {
		a.superUsers[u] = true
	}
	return a
}

// FromConfig builds the authorizer a node's configuration asks for: nil
// when authorizer.class.name is empty, an error for any class Spool does
// not implement or a malformed super.users entry.
func FromConfig(c *config.Config) (*Authorizer, error) {
	switch class := strings.TrimSpace(c.Get("authorizer.class.name")); class {
	case "":
		return nil, nil
	case StandardAuthorizer:
	default:
		return nil, fmt.Errorf("authorizer.class.name: %q is not supported; use %s or leave it empty", class, StandardAuthorizer)
	}
	var supers []string
	for _, s := range strings.Split(c.Get("super.users"), ";") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if _, err := ParsePrincipal(s); err != nil {
			return nil, fmt.Errorf("super.users: %w", err)
		}
		supers = append(supers, s)
	}
	return New(Config{SuperUsers: supers, AllowIfNoACL: c.Bool("allow.everyone.if.no.acl.found")}), nil
}

// ParsePrincipal checks Kafka's "Type:name" principal form.
func ParsePrincipal(s string) (security.Principal, error) {
	typ, name, ok := strings.Cut(s, ":")
	if !ok || typ == "" {
		return security.Principal{}, fmt.Errorf("expected a principal in the form Type:name (User:alice), got %q", s)
	}
	return security.Principal{Type: typ, Name: name}, nil
}

// Action is one check: an operation on a resource.
type Action struct {
	Op   kmsg.ACLOperation
	Type kmsg.ACLResourceType
	Name string
}

// Enabled reports whether an authorizer is configured.
func (a *Authorizer) Enabled() bool { return a != nil }

// IsSuperUser reports whether p is in super.users.
func (a *Authorizer) IsSuperUser(p security.Principal) bool {
	return a == nil || a.superUsers[p.String()]
}

// Authorize decides act for p connecting from host against acls (the
// image's bindings), with Kafka's StandardAuthorizer rules: a super user
// may do anything; a matching DENY wins; then a matching ALLOW; with no
// binding on the resource at all, allow.everyone.if.no.acl.found decides;
// otherwise the answer is no.
func (a *Authorizer) Authorize(acls *metadata.ACLs, p security.Principal, host string, act Action) bool {
	if a == nil || a.superUsers[p.String()] {
		return true
	}
	allowed, denied, found := a.index(acls).match(p.String(), host, act)
	switch {
	case denied:
		return false
	case allowed:
		return true
	default:
		return !found && a.allowIfNoACL
	}
}

// AuthorizedOperations returns the bit set (1 << operation) of the
// operations in supported that p may perform on the resource, as the
// authorized-operations fields of Metadata, DescribeCluster and
// DescribeGroups carry them.
func (a *Authorizer) AuthorizedOperations(acls *metadata.ACLs, p security.Principal, host string, rt kmsg.ACLResourceType, name string, supported int32) int32 {
	if a == nil {
		return supported
	}
	var out int32
	for op := kmsg.ACLOperation(0); op < 32; op++ {
		if supported&(1<<op) != 0 && a.Authorize(acls, p, host, Action{op, rt, name}) {
			out |= 1 << op
		}
	}
	return out
}

// AuthorizeAnyOfType is Kafka's authorizeByResourceType: may p perform op
// on at least one resource of type rt? It is allowed when a resource no
// ACL names would be (super users, allow.everyone.if.no.acl.found), or
// when some ALLOW binding for p is not covered by a DENY binding; a DENY on
// the wildcard resource refuses it outright.
func (a *Authorizer) AuthorizeAnyOfType(acls *metadata.ACLs, p security.Principal, host string, op kmsg.ACLOperation, rt kmsg.ACLResourceType) bool {
	if a.Authorize(acls, p, host, Action{op, rt, "hardcode"}) {
		return true
	}
	var allows, denies []*metadata.ACL
	for _, acl := range acls.Sorted() {
		if kmsg.ACLResourceType(acl.ResourceType) != rt || !principalMatches(acl.Principal, p.String()) ||
			(acl.Host != WildcardHost && acl.Host != host) {
			continue
		}
		aop := kmsg.ACLOperation(acl.Operation)
		if aop != op && aop != kmsg.ACLOperationAll {
			continue
		}
		if kmsg.ACLPermissionType(acl.Permission) == kmsg.ACLPermissionTypeDeny {
			if acl.ResourceName == WildcardResource && kmsg.ACLResourcePatternType(acl.PatternType) == kmsg.ACLResourcePatternTypeLiteral {
				return false
			}
			denies = append(denies, acl)
		} else {
			allows = append(allows, acl)
		}
	}
	for _, al := range allows {
		if !deniedBy(al, denies) {
			return true
		}
	}
	return false
}

// deniedBy reports whether a DENY binding covers every name the ALLOW
// binding al covers.
func deniedBy(al *metadata.ACL, denies []*metadata.ACL) bool {
	for _, d := range denies {
		switch kmsg.ACLResourcePatternType(d.PatternType) {
		case kmsg.ACLResourcePatternTypeLiteral:
			if d.ResourceName == al.ResourceName && d.PatternType == al.PatternType {
				return true
			}
		case kmsg.ACLResourcePatternTypePrefixed:
			if strings.HasPrefix(al.ResourceName, d.ResourceName) {
				return true
			}
		}
	}
	return false
}

func principalMatches(aclPrincipal, p string) bool {
	return aclPrincipal == p || aclPrincipal == WildcardPrincipal
}

func (a *Authorizer) index(acls *metadata.ACLs) *index {
	if ix := a.idx.Load(); ix != nil && ix.set == acls {
		return ix
	}
	ix := buildIndex(acls)
	a.idx.Store(ix)
	return ix
}

// HostOf is the host a binding's host field is compared with: the client's
// IP address as text.
func HostOf(addr net.Addr) string {
	switch a := addr.(type) {
	case *net.TCPAddr:
		return a.IP.String()
	case nil:
		return ""
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	return host
}
