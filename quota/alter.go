package quota

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

// Quotas are the client quotas by entity, as the metadata image holds
// them.
type Quotas = map[metadata.QuotaEntity]map[string]float64

// HostCheck reports whether an ip entity's name is an address or a
// resolvable host name, as Kafka requires of it.
type HostCheck func(name string) bool

// part is one entity type and name of a request entry.
type part struct {
	typ  string
	name *string
}

// entryKey is an entry's entity after Kafka's collapse of repeated types
// (the last name given for a type wins), as a comparable key.
func entryKey(ents []kmsg.AlterClientQuotasRequestEntryEntity) (string, []part) {
	var parts []part
	for _, e := range ents {
		i := slices.IndexFunc(parts, func(p part) bool { return p.typ == e.Type })
		if i >= 0 {
			parts[i].name = e.Name
			continue
		}
		parts = append(parts, part{e.Type, e.Name})
	}
	slices.SortFunc(parts, func(a, b part) int { return strings.Compare(a.typ, b.typ) })
	var sb strings.Builder
	for _, p := range parts {
		sb.WriteString(p.typ)
		if p.name == nil {
			sb.WriteString("\x00<default>")
		} else {
			sb.WriteString("\x00=" + *p.name)
		}
		sb.WriteByte('\x01')
	}
	return sb.String(), parts
}

type entryResult struct {
	parts []part
	code  int16
	msg   *string
}

// Alter plans an AlterClientQuotas against the current quotas with
// Kafka's rules: each distinct entity is validated on its own (INVALID_
// REQUEST with Kafka's message), an entity named twice is refused the
// second time, a key given twice refuses its entity, and only values that
// change become records. The answer has one entry per distinct entity in
// the order the request first names them; the records are to be written
// in one batch (none when the request is validate-only).
func Alter(cur Quotas, req *kmsg.AlterClientQuotasRequest, hostOK HostCheck) ([]metadata.Record, *kmsg.AlterClientQuotasResponse) {
	var recs []metadata.Record
	var order []string
	results := map[string]*entryResult{}
	for _, ent := range req.Entries {
		key, parts := entryKey(ent.Entity)
		if r, seen := results[key]; seen {
			r.code, r.msg = kerr.InvalidRequest.Code, kmsg.StringPtr("Ignoring duplicate entity "+describe(parts))
			continue
		}
		r := &entryResult{parts: parts}
		results[key], order = r, append(order, key)
		entRecs, msg := alterEntity(cur, parts, ent.Ops, hostOK)
		if msg != "" {
			r.code, r.msg = kerr.InvalidRequest.Code, &msg
			continue
		}
		recs = append(recs, entRecs...)
	}
	resp := req.ResponseKind().(*kmsg.AlterClientQuotasResponse)
	for _, key := range order {
		r := results[key]
		e := kmsg.NewAlterClientQuotasResponseEntry()
		e.ErrorCode, e.ErrorMessage = r.code, r.msg
		for _, p := range r.parts {
			re := kmsg.NewAlterClientQuotasResponseEntryEntity()
			re.Type, re.Name = p.typ, p.name
			e.Entity = append(e.Entity, re)
		}
		resp.Entries = append(resp.Entries, e)
	}
	if req.ValidateOnly {
		recs = nil
	}
	return recs, resp
}

// alterEntity validates one entity's ops and returns its records, or the
// message of the error that refuses the whole entity.
func alterEntity(cur Quotas, parts []part, ops []kmsg.AlterClientQuotasRequestEntryOp, hostOK HostCheck) ([]metadata.Record, string) {
	entity, keys, msg := validateEntity(parts, hostOK)
	if msg != "" {
		return nil, msg
	}
	seen := map[string]bool{}
	for _, op := range ops {
		if seen[op.Key] {
			return nil, fmt.Sprintf("Duplicate quota key %s not updating quota for this entity %s", op.Key, describe(parts))
		}
		seen[op.Key] = true
	}
	have := cur[entity]
	data := entity.Data()
	var recs []metadata.Record
	for _, op := range ops {
		old, exists := have[op.Key]
		if op.Remove {
			if exists {
				recs = append(recs, &metadata.ClientQuotaRecord{Entity: data, Key: op.Key, Remove: true})
			}
			continue
		}
		if msg := validateValue(keys, op.Key, op.Value); msg != "" {
			return nil, msg
		}
		if !exists || old != op.Value {
			recs = append(recs, &metadata.ClientQuotaRecord{Entity: data, Key: op.Key, Value: op.Value})
		}
	}
	return recs, ""
}

// validateEntity checks an entity's types, names and combination and
// returns it with the keys it takes.
func validateEntity(parts []part, hostOK HostCheck) (metadata.QuotaEntity, map[string]valueKind, string) {
	var e metadata.QuotaEntity
	if len(parts) == 0 {
		return e, nil, "Invalid empty client quota entity"
	}
	for _, p := range parts {
		var n *metadata.QuotaName
		switch p.typ {
		case metadata.QuotaUser:
			n = &e.User
		case metadata.QuotaClientID:
			n = &e.ClientID
		case metadata.QuotaIP:
			n = &e.IP
		default:
			return e, nil, "Unhandled client quota entity type: " + p.typ
		}
		n.Set = true
		if p.name == nil {
			n.Default = true
		} else if *p.name == "" {
			return e, nil, "Empty " + p.typ + " not supported"
		} else {
			n.Name = *p.name
		}
	}
	switch {
	case e.IP.Set && (e.User.Set || e.ClientID.Set):
		return e, nil, "Invalid quota entity combination, IP entity should not be combined with User or ClientId"
	case e.IP.Set && !e.IP.Default && (hostOK == nil || !hostOK(e.IP.Name)):
		return e, nil, e.IP.Name + " is not a valid IP or resolvable host."
	case e.IP.Set:
		return e, ipKeys, ""
	}
	return e, clientKeys, ""
}

// validateValue checks a key is one the entity takes and its value fits
// the key's type. Kafka accepts any double, NaN and infinities included;
// Spool refuses values that are not finite, since no rate can be held to
// them.
func validateValue(keys map[string]valueKind, key string, v float64) string {
	kind, ok := keys[key]
	if !ok {
		return "Invalid configuration key " + key
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprintf("Configuration %s must be a finite number", key)
	}
	if kind != kindDouble {
		const epsilon = 1e-6
		if math.Abs(math.Trunc(v+epsilon)-v) > epsilon {
			return "Configuration " + key + " must be a Long value"
		}
	}
	return ""
}

// describe names an entity as Kafka's messages do.
func describe(parts []part) string {
	var s []string
	for _, p := range parts {
		name := "<default>"
		if p.name != nil {
			name = *p.name
		}
		s = append(s, p.typ+"="+name)
	}
	return "ClientQuotaEntity(entries={" + strings.Join(s, ", ") + "})"
}
