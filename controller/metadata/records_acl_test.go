package metadata

import (
	"reflect"
	"testing"
)

func TestACLAndQuotaRecordsRoundTripAndReplay(t *testing.T) {
	add := &AccessControlEntryRecord{ACL: ACL{ID: [16]byte{1, 2}, ResourceType: 2, ResourceName: "orders", PatternType: 3,
		Principal: "User:alice", Host: "*", Operation: 3, Permission: 3}}
	rm := &RemoveAccessControlEntryRecord{ID: [16]byte{1, 2}}
	alice := "alice"
	quota := &ClientQuotaRecord{Entity: []QuotaEntityData{{EntityType: QuotaUser, EntityName: &alice}, {EntityType: QuotaClientID}},
		Key: "producer_byte_rate", Value: 1048576}
	for _, r := range []Record{add, rm, quota} {
		got, err := Decode(Encode(nil, r))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("round trip: %+v, want %+v", got, r)
		}
	}
	d := NewDelta(Empty())
	for _, r := range []Record{add, quota} {
		if err := d.Replay(r); err != nil {
			t.Fatal(err)
		}
	}
	img := d.Apply()
	if a, ok := img.ACLs.Get(add.ID); !ok || a.ResourceName != "orders" {
		t.Fatalf("ACL %+v %v", a, ok)
	}
	entity := QuotaEntity{User: QuotaName{Set: true, Name: "alice"}, ClientID: QuotaName{Set: true, Default: true}}
	if img.Quotas[entity]["producer_byte_rate"] != 1048576 {
		t.Fatalf("quotas %v", img.Quotas)
	}
	// A second add of the same id is refused; snapshots keep both kinds.
	if err := NewDelta(img).Replay(add); err == nil {
		t.Fatal("duplicate ACL id accepted")
	}
	d2 := NewDelta(Empty())
	for _, r := range img.Records() {
		if err := d2.Replay(r); err != nil {
			t.Fatal(err)
		}
	}
	img2 := d2.Apply()
	if img2.ACLs.Len() != 1 || !reflect.DeepEqual(img2.Quotas, img.Quotas) {
		t.Fatal("the snapshot lost ACLs or quotas")
	}
	// Removal leaves the base alone; removing twice fails.
	d3 := NewDelta(img)
	if err := d3.Replay(rm); err != nil {
		t.Fatal(err)
	}
	if err := d3.Replay(rm); err == nil {
		t.Fatal("removed an absent ACL")
	}
	quota.Remove = true
	if err := d3.Replay(quota); err != nil {
		t.Fatal(err)
	}
	img3 := d3.Apply()
	if img3.ACLs.Len() != 0 || len(img3.Quotas) != 0 || img.ACLs.Len() != 1 || len(img.Quotas) != 1 {
		t.Fatal("removal wrong or the base image changed")
	}
	if _, err := EntityOf([]QuotaEntityData{{EntityType: "bogus"}}); err == nil {
		t.Fatal("unknown entity type accepted")
	}
}
