package quota

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

func entry(ents [][2]*string, ops ...kmsg.AlterClientQuotasRequestEntryOp) kmsg.AlterClientQuotasRequestEntry {
	e := kmsg.NewAlterClientQuotasRequestEntry()
	for _, p := range ents {
		e.Entity = append(e.Entity, kmsg.AlterClientQuotasRequestEntryEntity{Type: *p[0], Name: p[1]})
	}
	e.Ops = ops
	return e
}

func s(v string) *string { return &v }

func setOp(k string, v float64) kmsg.AlterClientQuotasRequestEntryOp {
	return kmsg.AlterClientQuotasRequestEntryOp{Key: k, Value: v}
}

// Each bad entity gets INVALID_REQUEST and writes nothing, while the good
// entities of the same request are written.
func TestAlterValidation(t *testing.T) {
	hostOK := func(n string) bool { return n == "10.0.0.1" }
	cases := []struct {
		name string
		e    kmsg.AlterClientQuotasRequestEntry
		code int16
	}{
		{"user", entry([][2]*string{{s("user"), s("a")}}, setOp(ProducerByteRate, 1024)), 0},
		{"user-client", entry([][2]*string{{s("user"), s("a")}, {s("client-id"), nil}}, setOp(RequestPercentage, 12.5)), 0},
		{"ip", entry([][2]*string{{s("ip"), s("10.0.0.1")}}, setOp(ConnectionCreationRate, 5)), 0},
		{"ip-default", entry([][2]*string{{s("ip"), nil}}, setOp(ConnectionCreationRate, 5)), 0},
		{"unknown-type", entry([][2]*string{{s("group"), s("g")}}, setOp(ProducerByteRate, 1)), kerr.InvalidRequest.Code},
		{"empty", entry(nil, setOp(ProducerByteRate, 1)), kerr.InvalidRequest.Code},
		{"empty-name", entry([][2]*string{{s("client-id"), s("")}}, setOp(ProducerByteRate, 1)), kerr.InvalidRequest.Code},
		{"ip-user", entry([][2]*string{{s("ip"), nil}, {s("user"), s("b")}}, setOp(ProducerByteRate, 1)), kerr.InvalidRequest.Code},
		{"bad-host", entry([][2]*string{{s("ip"), s("nowhere")}}, setOp(ConnectionCreationRate, 1)), kerr.InvalidRequest.Code},
		{"bad-key", entry([][2]*string{{s("user"), s("c")}}, setOp("nope", 1)), kerr.InvalidRequest.Code},
		{"ip-key-on-user", entry([][2]*string{{s("user"), s("c")}}, setOp(ConnectionCreationRate, 1)), kerr.InvalidRequest.Code},
		{"fraction", entry([][2]*string{{s("user"), s("c")}}, setOp(ProducerByteRate, 2.5)), kerr.InvalidRequest.Code},
		{"negative", entry([][2]*string{{s("user"), s("c")}}, setOp(ConsumerByteRate, -5)), kerr.InvalidRequest.Code},
		{"dup-key", entry([][2]*string{{s("user"), s("d")}}, setOp(ProducerByteRate, 1), setOp(ProducerByteRate, 2)), kerr.InvalidRequest.Code},
	}
	for _, c := range cases {
		req := kmsg.NewPtrAlterClientQuotasRequest()
		req.Entries = append(req.Entries, c.e)
		recs, resp := Alter(nil, req, hostOK)
		if len(resp.Entries) != 1 || resp.Entries[0].ErrorCode != c.code {
			t.Errorf("%s: entries %+v, want code %d", c.name, resp.Entries, c.code)
			continue
		}
		if (c.code == 0) != (len(recs) == 1) {
			t.Errorf("%s: %d records", c.name, len(recs))
		}
	}
}

// Unchanged values and removals of absent keys write nothing; validate-only
// writes nothing; an entity named twice is refused the second time.
func TestAlterWritesOnlyChanges(t *testing.T) {
	alice := metadata.QuotaEntity{User: metadata.QuotaName{Set: true, Name: "alice"}}
	cur := Quotas{alice: {ProducerByteRate: 1000}}
	req := kmsg.NewPtrAlterClientQuotasRequest()
	req.Entries = append(req.Entries, entry([][2]*string{{s("user"), s("alice")}}, setOp(ProducerByteRate, 1000),
		kmsg.AlterClientQuotasRequestEntryOp{Key: ConsumerByteRate, Remove: true}))
	if recs, resp := Alter(cur, req, nil); len(recs) != 0 || resp.Entries[0].ErrorCode != 0 {
		t.Fatalf("no-op wrote %v (%+v)", recs, resp.Entries)
	}
	req.Entries[0].Ops = []kmsg.AlterClientQuotasRequestEntryOp{{Key: ProducerByteRate, Remove: true}, setOp(ConsumerByteRate, 5)}
	recs, _ := Alter(cur, req, nil)
	if len(recs) != 2 || !recs[0].(*metadata.ClientQuotaRecord).Remove || recs[1].(*metadata.ClientQuotaRecord).Value != 5 {
		t.Fatalf("records %+v", recs)
	}
	req.ValidateOnly = true
	if recs, _ := Alter(cur, req, nil); len(recs) != 0 {
		t.Fatalf("validate-only wrote %v", recs)
	}
	req.ValidateOnly = false
	req.Entries = append(req.Entries, req.Entries[0])
	_, resp := Alter(cur, req, nil)
	if len(resp.Entries) != 1 || resp.Entries[0].ErrorCode != kerr.InvalidRequest.Code {
		t.Fatalf("duplicate entity: %+v", resp.Entries)
	}
}
