package metadata

import (
	"reflect"
	"testing"
)

func TestDelegationTokenRecordsRoundTripAndReplay(t *testing.T) {
	set := &DelegationTokenRecord{Owner: "User:alice", Requester: "User:bob", Renewers: []string{"User:carol"},
		IssueTimestamp: 1, MaxTimestamp: 3, ExpirationTimestamp: 2, TokenID: "tok"}
	rm := &RemoveDelegationTokenRecord{TokenID: "tok"}
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
	if tok, ok := img.Token("tok"); !ok || tok.Owner != "User:alice" || tok.ExpiryMs != 2 {
		t.Fatalf("token %+v %v", tok, ok)
	}
	d2 := NewDelta(Empty())
	for _, r := range img.Records() {
		if err := d2.Replay(r); err != nil {
			t.Fatal(err)
		}
	}
	if tok, ok := d2.Apply().Token("tok"); !ok || !reflect.DeepEqual(tok, img.Tokens["tok"]) {
		t.Fatalf("the snapshot changed the token: %+v", tok)
	}
	d3 := NewDelta(img)
	if err := d3.Replay(rm); err != nil {
		t.Fatal(err)
	}
	if _, ok := d3.Apply().Token("tok"); ok {
		t.Fatal("removed token still there")
	}
	if _, ok := img.Token("tok"); !ok {
		t.Fatal("the delta changed its base image")
	}
	if err := NewDelta(Empty()).Replay(rm); err == nil {
		t.Fatal("removing a missing token replayed")
	}
}

// FuzzDecodeDelegationToken is FuzzDecode seeded with the token records.
func FuzzDecodeDelegationToken(f *testing.F) {
	f.Add(Encode(nil, &DelegationTokenRecord{Owner: "User:a", Requester: "User:b", Renewers: []string{"User:c"}, TokenID: "t"}))
	f.Add(Encode(nil, &RemoveDelegationTokenRecord{TokenID: "t"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(b)
		if err != nil {
			return
		}
		again := Encode(nil, r)
		r2, err := Decode(again)
		if err != nil {
			t.Fatalf("re-encoded %T does not decode: %v", r, err)
		}
		if !reflect.DeepEqual(r, r2) {
			t.Fatalf("%T changed across re-encoding: %+v, %+v", r, r, r2)
		}
	})
}
