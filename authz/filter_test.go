package authz

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

func TestFilterMatches(t *testing.T) {
	s := func(v string) *string { return &v }
	lt := &metadata.ACL{ResourceType: int8(topic), ResourceName: "orders", PatternType: int8(lit), Principal: "User:a", Host: "*", Operation: int8(read), Permission: int8(allow)}
	wild := &metadata.ACL{ResourceType: int8(topic), ResourceName: "*", PatternType: int8(lit), Principal: "User:a", Host: "*", Operation: int8(read), Permission: int8(allow)}
	px := &metadata.ACL{ResourceType: int8(topic), ResourceName: "ord", PatternType: int8(pre), Principal: "User:b", Host: "*", Operation: int8(write), Permission: int8(deny)}
	any := Filter{ResourceType: kmsg.ACLResourceTypeAny, PatternType: kmsg.ACLResourcePatternTypeAny, Operation: kmsg.ACLOperationAny, Permission: kmsg.ACLPermissionTypeAny}
	with := func(f func(*Filter)) Filter { g := any; f(&g); return g }
	for _, tc := range []struct {
		name string
		f    Filter
		want [3]bool // lt, wild, px
	}{
		{"any", any, [3]bool{true, true, true}},
		{"name with ANY pattern is exact", with(func(f *Filter) { f.ResourceName = s("orders") }), [3]bool{true, false, false}},
		{"MATCH takes wildcard and prefixes", with(func(f *Filter) {
			f.ResourceName, f.PatternType = s("orders"), kmsg.ACLResourcePatternTypeMatch
		}), [3]bool{true, true, true}},
		{"LITERAL", with(func(f *Filter) { f.PatternType = lit }), [3]bool{true, true, false}},
		{"PREFIXED named", with(func(f *Filter) { f.PatternType, f.ResourceName = pre, s("ord") }), [3]bool{false, false, true}},
		{"principal", with(func(f *Filter) { f.Principal = s("User:b") }), [3]bool{false, false, true}},
		{"operation", with(func(f *Filter) { f.Operation = read }), [3]bool{true, true, false}},
		{"permission", with(func(f *Filter) { f.Permission = deny }), [3]bool{false, false, true}},
		{"resource type", with(func(f *Filter) { f.ResourceType = group }), [3]bool{false, false, false}},
		{"host", with(func(f *Filter) { f.Host = s("1.1.1.1") }), [3]bool{false, false, false}},
	} {
		for i, a := range []*metadata.ACL{lt, wild, px} {
			if got := tc.f.Matches(a); got != tc.want[i] {
				t.Errorf("%s: binding %d: %v, want %v", tc.name, i, got, tc.want[i])
			}
		}
	}
	if any.Validate() != "" || with(func(f *Filter) { f.PatternType = kmsg.ACLResourcePatternTypeUnknown }).Validate() == "" {
		t.Fatal("filter validation")
	}
}

func TestValidateNew(t *testing.T) {
	ok := metadata.ACL{ResourceType: int8(topic), ResourceName: "t", PatternType: int8(lit), Principal: "User:a", Host: "*", Operation: int8(read), Permission: int8(allow)}
	if msg := ValidateNew(&ok); msg != "" {
		t.Fatal(msg)
	}
	for name, f := range map[string]func(a *metadata.ACL){
		"any resource":     func(a *metadata.ACL) { a.ResourceType = int8(kmsg.ACLResourceTypeAny) },
		"match pattern":    func(a *metadata.ACL) { a.PatternType = int8(kmsg.ACLResourcePatternTypeMatch) },
		"any operation":    func(a *metadata.ACL) { a.Operation = int8(kmsg.ACLOperationAny) },
		"any permission":   func(a *metadata.ACL) { a.Permission = int8(kmsg.ACLPermissionTypeAny) },
		"empty name":       func(a *metadata.ACL) { a.ResourceName = "" },
		"cluster name":     func(a *metadata.ACL) { a.ResourceType = int8(cluster) },
		"principal format": func(a *metadata.ACL) { a.Principal = "alice" },
		"empty host":       func(a *metadata.ACL) { a.Host = "" },
	} {
		a := ok
		f(&a)
		if ValidateNew(&a) == "" {
			t.Errorf("%s: accepted", name)
		}
	}
}
