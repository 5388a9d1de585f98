package metadata

import (
	"reflect"
	"testing"
)

func TestScramRecordsRoundTripAndReplay(t *testing.T) {
	set := &UserScramCredentialRecord{Name: "alice", Mechanism: 2, Salt: []byte("salt"), StoredKey: []byte("stored"), ServerKey: []byte("server"), Iterations: 4096}
	rm := &RemoveUserScramCredentialRecord{Name: "alice", Mechanism: 2}
	for _, r := range []Record{set, rm} {
		got, err := Decode(Encode(nil, r))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("round trip: %+v, want %+v", got, r)
		}
	}
	d := NewDelta(Empty())
	if err := d.Replay(set); err != nil {
		t.Fatal(err)
	}
	img := d.Apply()
	if u, ok := img.Scram("alice", 2); !ok || string(u.StoredKey) != "stored" {
		t.Fatalf("credential %+v %v", u, ok)
	}
	if _, ok := img.Scram("alice", 1); ok {
		t.Fatal("a SCRAM-SHA-512 credential answers for SCRAM-SHA-256")
	}
	// Snapshots keep credentials.
	d2 := NewDelta(Empty())
	for _, r := range img.Records() {
		if err := d2.Replay(r); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := d2.Apply().Scram("alice", 2); !ok {
		t.Fatal("the snapshot lost the credential")
	}
	// Removal, and the base image untouched.
	d3 := NewDelta(img)
	if err := d3.Replay(rm); err != nil {
		t.Fatal(err)
	}
	if _, ok := d3.Apply().Scram("alice", 2); ok {
		t.Fatal("removed credential still there")
	}
	if _, ok := img.Scram("alice", 2); !ok {
		t.Fatal("the delta changed its base image")
	}
	if err := NewDelta(Empty()).Replay(rm); err == nil {
		t.Fatal("removing a missing credential replayed")
	}
	if err := NewDelta(Empty()).Replay(&UserScramCredentialRecord{Name: "x", Mechanism: 3, StoredKey: []byte{1}, ServerKey: []byte{1}, Iterations: 1}); err == nil {
		t.Fatal("mechanism 3 replayed")
	}
}
