package conformance

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// qe is one entity part of a quota request: a type and a name (nil for the
// type's default entity).
type qe struct {
	typ  string
	name *string
}

func named(typ, name string) qe { return qe{typ, &name} }
func dflt(typ string) qe        { return qe{typ: typ} }

type qop struct {
	key    string
	value  float64
	remove bool
}

func quotaEntry(ents []qe, ops ...qop) kmsg.AlterClientQuotasRequestEntry {
	e := kmsg.NewAlterClientQuotasRequestEntry()
	for _, p := range ents {
		re := kmsg.NewAlterClientQuotasRequestEntryEntity()
		re.Type, re.Name = p.typ, p.name
		e.Entity = append(e.Entity, re)
	}
	for _, o := range ops {
		ro := kmsg.NewAlterClientQuotasRequestEntryOp()
		ro.Key, ro.Value, ro.Remove = o.key, o.value, o.remove
		e.Ops = append(e.Ops, ro)
	}
	return e
}

func alterQuotas(validateOnly bool, entries ...kmsg.AlterClientQuotasRequestEntry) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrAlterClientQuotasRequest()
		req.ValidateOnly, req.Entries = validateOnly, entries
		return req
	}
}

func alterQuota(ents []qe, ops ...qop) func(*side) kmsg.Request {
	return alterQuotas(false, quotaEntry(ents, ops...))
}

type qfilter struct {
	typ   string
	match kmsg.QuotasMatchType
	name  *string
}

func describeQuotas(strict bool, comps ...qfilter) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrDescribeClientQuotasRequest()
		req.Strict = strict
		for _, c := range comps {
			rc := kmsg.NewDescribeClientQuotasRequestComponent()
			rc.EntityType, rc.MatchType, rc.Match = c.typ, c.match, c.name
			req.Components = append(req.Components, rc)
		}
		return req
	}
}

func exact(typ, name string) qfilter { return qfilter{typ, kmsg.QuotasMatchTypeExact, &name} }
func dfltMatch(typ string) qfilter   { return qfilter{typ: typ, match: kmsg.QuotasMatchTypeDefault} }
func anyMatch(typ string) qfilter    { return qfilter{typ: typ, match: kmsg.QuotasMatchTypeAny} }

var (
	alterCompare    = []string{"**ErrorCode", "Entries.len"}
	describeCompare = []string{"ErrorCode", "Entries.len", "Entries[*].Entity**", "Entries[*].Values**"}
)

func quotaScripts() []script {
	user, client, ip := "user", "client-id", "ip"
	alice, app := named(user, "cq-alice"), named(client, "cq-app")
	return []script{
		{name: "client-quotas", steps: []step{
			{name: "set-user", req: alterQuota([]qe{alice}, qop{key: "producer_byte_rate", value: 1024}), compare: alterCompare},
			{name: "set-user-client", req: alterQuota([]qe{alice, app}, qop{key: "consumer_byte_rate", value: 2048},
				qop{key: "request_percentage", value: 50.5}), compare: alterCompare},
			{name: "set-default-client", req: alterQuota([]qe{dflt(client)}, qop{key: "producer_byte_rate", value: 4096}), compare: alterCompare},
			{name: "set-ip", req: alterQuota([]qe{named(ip, "127.0.0.9")}, qop{key: "connection_creation_rate", value: 10}), compare: alterCompare},
			{name: "set-default-ip", req: alterQuota([]qe{dflt(ip)}, qop{key: "connection_creation_rate", value: 100}), compare: alterCompare},
			{name: "set-controller-mutation", req: alterQuota([]qe{named(user, "cq-bob")}, qop{key: "controller_mutation_rate", value: 2.5}), compare: alterCompare},
			{name: "unknown-entity-type", req: alterQuota([]qe{named("group", "g")}, qop{key: "producer_byte_rate", value: 1}), compare: alterCompare},
			{name: "no-entity", req: alterQuota(nil, qop{key: "producer_byte_rate", value: 1}), compare: alterCompare},
			{name: "empty-user-name", req: alterQuota([]qe{named(user, "")}, qop{key: "producer_byte_rate", value: 1}), compare: alterCompare},
			{name: "ip-with-user", req: alterQuota([]qe{alice, named(ip, "127.0.0.9")}, qop{key: "connection_creation_rate", value: 1}), compare: alterCompare},
			{name: "unresolvable-ip", req: alterQuota([]qe{named(ip, "no-such-host.invalid")}, qop{key: "connection_creation_rate", value: 1}), compare: alterCompare},
			{name: "unknown-key", req: alterQuota([]qe{alice}, qop{key: "bytes_per_fortnight", value: 1}), compare: alterCompare},
			{name: "ip-key-on-user", req: alterQuota([]qe{alice}, qop{key: "connection_creation_rate", value: 1}), compare: alterCompare},
			{name: "user-key-on-ip", req: alterQuota([]qe{named(ip, "127.0.0.9")}, qop{key: "producer_byte_rate", value: 1}), compare: alterCompare},
			{name: "fractional-long", req: alterQuota([]qe{alice}, qop{key: "producer_byte_rate", value: 1.5}), compare: alterCompare},
			{name: "negative-long", req: alterQuota([]qe{alice}, qop{key: "producer_byte_rate", value: -5}), compare: alterCompare},
			{name: "duplicate-key", req: alterQuota([]qe{alice}, qop{key: "producer_byte_rate", value: 1},
				qop{key: "producer_byte_rate", value: 2}), compare: alterCompare},
			{name: "duplicate-entity", req: alterQuotas(false, quotaEntry([]qe{named(user, "cq-carol")}, qop{key: "producer_byte_rate", value: 7}),
				quotaEntry([]qe{named(user, "cq-carol")}, qop{key: "consumer_byte_rate", value: 8})), compare: alterCompare},
			{name: "mixed-entries", req: alterQuotas(false, quotaEntry([]qe{named(user, "cq-dave")}, qop{key: "producer_byte_rate", value: 9}),
				quotaEntry([]qe{named(user, "cq-erin")}, qop{key: "nonsense", value: 8})), compare: []string{"Entries.len"}, check: erinRefused},
			{name: "validate-only", req: alterQuotas(true, quotaEntry([]qe{alice}, qop{key: "producer_byte_rate", value: 999})), compare: alterCompare},
			{name: "remove-absent", req: alterQuota([]qe{alice}, qop{key: "consumer_byte_rate", remove: true}), compare: alterCompare},
			{name: "describe-user-strict", req: describeQuotas(true, exact(user, "cq-alice")), compare: describeCompare, settle: true},
			{name: "describe-user", req: describeQuotas(false, exact(user, "cq-alice")), compare: []string{"ErrorCode", "Entries.len"}, settle: true},
			{name: "describe-user-client", req: describeQuotas(true, exact(user, "cq-alice"), exact(client, "cq-app")), compare: describeCompare, settle: true},
			{name: "describe-default-client", req: describeQuotas(true, dfltMatch(client)), compare: describeCompare, settle: true},
			{name: "describe-ip", req: describeQuotas(true, exact(ip, "127.0.0.9")), compare: describeCompare, settle: true},
			{name: "describe-any-ip", req: describeQuotas(true, anyMatch(ip)), compare: []string{"ErrorCode", "Entries.len"}, settle: true},
			{name: "describe-carol", req: describeQuotas(true, exact(user, "cq-carol")), compare: describeCompare, settle: true},
			{name: "describe-dave-erin", req: describeQuotas(true, exact(user, "cq-erin")), compare: describeCompare, settle: true},
			{name: "describe-none", req: describeQuotas(true, exact(user, "cq-nobody")), compare: describeCompare},
			{name: "describe-empty-type", req: describeQuotas(false, exact("", "x")), compare: describeCompare},
			{name: "describe-unknown-type", req: describeQuotas(false, exact("group", "x")), compare: describeCompare},
			{name: "describe-twice", req: describeQuotas(false, exact(user, "a"), anyMatch(user)), compare: describeCompare},
			{name: "describe-exact-null", req: describeQuotas(false, qfilter{typ: user, match: kmsg.QuotasMatchTypeExact}), compare: describeCompare},
			{name: "describe-default-named", req: describeQuotas(false, qfilter{typ: user, match: kmsg.QuotasMatchTypeDefault, name: kmsg.StringPtr("x")}), compare: describeCompare},
			{name: "describe-ip-with-user", req: describeQuotas(false, anyMatch(ip), anyMatch(user)), compare: describeCompare},
			{name: "describe-bad-match-type", req: describeQuotas(false, qfilter{typ: user, match: 7}), compare: describeCompare},
			{name: "remove", req: alterQuota([]qe{alice}, qop{key: "producer_byte_rate", remove: true}), compare: alterCompare},
			{name: "describe-removed", req: describeQuotas(true, exact(user, "cq-alice")), compare: describeCompare, settle: true},
		}},
	}
}

// erinRefused checks mixed-entries per entity: Kafka lists the entries in
// no fixed order, so they are matched by name, not position.
func erinRefused(r kmsg.Response) error {
	for _, e := range r.(*kmsg.AlterClientQuotasResponse).Entries {
		if len(e.Entity) != 1 || e.Entity[0].Name == nil {
			return fmt.Errorf("entry %+v", e)
		}
		want := int16(0)
		if *e.Entity[0].Name == "cq-erin" {
			want = kerr.InvalidRequest.Code
		}
		if e.ErrorCode != want {
			return fmt.Errorf("%s: error %d, want %d", *e.Entity[0].Name, e.ErrorCode, want)
		}
	}
	return nil
}
