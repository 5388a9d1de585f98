package quota

import (
	"cmp"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

// filter is a DescribeClientQuotas filter once checked: per entity type,
// an exact name (nil for the default entity) or any name.
type filter struct {
	exact map[string]*string
	any   map[string]bool
}

// parseFilter checks the components as Kafka does and returns the error
// code and message of a bad filter.
func parseFilter(comps []kmsg.DescribeClientQuotasRequestComponent) (filter, int16, string) {
	f := filter{exact: map[string]*string{}, any: map[string]bool{}}
	for _, c := range comps {
		_, dupExact := f.exact[c.EntityType]
		switch {
		case c.EntityType == "":
			return f, kerr.InvalidRequest.Code, "Invalid empty entity type."
		case dupExact || f.any[c.EntityType]:
			return f, kerr.InvalidRequest.Code, "Entity type " + c.EntityType + " cannot appear more than once in the filter."
		case c.EntityType != metadata.QuotaUser && c.EntityType != metadata.QuotaClientID && c.EntityType != metadata.QuotaIP:
			return f, kerr.UnsupportedVersion.Code, "Unsupported entity type " + c.EntityType
		}
		switch c.MatchType {
		case kmsg.QuotasMatchTypeExact:
			if c.Match == nil {
				return f, kerr.InvalidRequest.Code, "Request specified MATCH_TYPE_EXACT, but set match string to null."
			}
			f.exact[c.EntityType] = c.Match
		case kmsg.QuotasMatchTypeDefault:
			if c.Match != nil {
				return f, kerr.InvalidRequest.Code, "Request specified MATCH_TYPE_DEFAULT, but also specified a match string."
			}
			f.exact[c.EntityType] = nil
		case kmsg.QuotasMatchTypeAny:
			if c.Match != nil {
				return f, kerr.InvalidRequest.Code, "Request specified MATCH_TYPE_SPECIFIED, but also specified a match string."
			}
			f.any[c.EntityType] = true
		default:
			return f, kerr.InvalidRequest.Code, "Unknown match type " + c.MatchType.String()
		}
	}
	if f.has(metadata.QuotaIP) && (f.has(metadata.QuotaUser) || f.has(metadata.QuotaClientID)) {
		return f, kerr.InvalidRequest.Code, "Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component."
	}
	return f, 0, ""
}

func (f filter) has(typ string) bool {
	_, ok := f.exact[typ]
	return ok || f.any[typ]
}

func nameOf(e metadata.QuotaEntity, typ string) metadata.QuotaName {
	switch typ {
	case metadata.QuotaUser:
		return e.User
	case metadata.QuotaClientID:
		return e.ClientID
	}
	return e.IP
}

func (f filter) matches(e metadata.QuotaEntity, strict bool) bool {
	for typ, want := range f.exact {
		n := nameOf(e, typ)
		if !n.Set || n.Default != (want == nil) || (want != nil && n.Name != *want) {
			return false
		}
	}
	for typ := range f.any {
		if !nameOf(e, typ).Set {
			return false
		}
	}
	return !strict || len(e.Data()) == len(f.exact)+len(f.any)
}

// Describe answers a DescribeClientQuotas from the quotas with Kafka's
// filter rules: exact and default components name one entity type each,
// "specified" ones match any name of their type, and strict keeps only
// entities with no other types. Entries come sorted by entity, values by
// key, so answers are stable.
func Describe(quotas Quotas, req *kmsg.DescribeClientQuotasRequest) *kmsg.DescribeClientQuotasResponse {
	resp := req.ResponseKind().(*kmsg.DescribeClientQuotasResponse)
	f, code, msg := parseFilter(req.Components)
	if code != 0 {
		resp.ErrorCode, resp.ErrorMessage = code, &msg
		return resp
	}
	resp.Entries = []kmsg.DescribeClientQuotasResponseEntry{} // nullable: null only on an error
	ents := slices.SortedFunc(maps.Keys(quotas), func(a, b metadata.QuotaEntity) int { return cmp.Compare(a.String(), b.String()) })
	for _, e := range ents {
		if !f.matches(e, req.Strict) {
			continue
		}
		entry := kmsg.NewDescribeClientQuotasResponseEntry()
		for _, d := range e.Data() {
			re := kmsg.NewDescribeClientQuotasResponseEntryEntity()
			re.Type, re.Name = d.EntityType, d.EntityName
			entry.Entity = append(entry.Entity, re)
		}
		vals := quotas[e]
		for _, k := range slices.Sorted(maps.Keys(vals)) {
			v := kmsg.NewDescribeClientQuotasResponseEntryValue()
			v.Key, v.Value = k, vals[k]
			entry.Values = append(entry.Values, v)
		}
		resp.Entries = append(resp.Entries, entry)
	}
	return resp
}
