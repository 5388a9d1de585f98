package controller

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

func TestScramChanges(t *testing.T) {
	d := metadata.NewDelta(metadata.Empty())
	d.Replay(&metadata.UserScramCredentialRecord{Name: "carol", Mechanism: 1, Salt: []byte("s"), StoredKey: []byte("k"), ServerKey: []byte("k"), Iterations: 4096})
	img := d.Apply()
	up := func(name string, mech int8, iters int32) kmsg.AlterUserSCRAMCredentialsRequestUpsertion {
		u := kmsg.NewAlterUserSCRAMCredentialsRequestUpsertion()
		u.Name, u.Mechanism, u.Iterations, u.Salt, u.SaltedPassword = name, mech, iters, []byte("salt"), []byte("salted")
		return u
	}
	del := func(name string, mech int8) kmsg.AlterUserSCRAMCredentialsRequestDeletion {
		d := kmsg.NewAlterUserSCRAMCredentialsRequestDeletion()
		d.Name, d.Mechanism = name, mech
		return d
	}
	req := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	req.Upsertions = append(req.Upsertions, up("alice", 2, 8192), up("low", 1, 100), up("high", 1, 20000), up("odd", 3, 4096),
		up("twice", 1, 4096), up("twice", 1, 4096), up("", 1, 4096))
	req.Deletions = append(req.Deletions, del("carol", 1), del("nobody", 1))
	recs, results := scramChanges(img, req)
	want := map[string]int16{
		"carol": 0, "nobody": kerr.ResourceNotFound.Code, "alice": 0, "low": kerr.UnacceptableCredential.Code,
		"high": kerr.UnacceptableCredential.Code, "odd": kerr.UnsupportedSaslMechanism.Code,
		"twice": kerr.DuplicateResource.Code, "": kerr.UnacceptableCredential.Code,
	}
	if len(results) != len(want) {
		t.Fatalf("results %+v", results)
	}
	for _, r := range results {
		code := int16(0)
		if r.err != nil {
			code = r.err.Code
		}
		if code != want[r.user] {
			t.Errorf("%q: code %d, want %d (%s)", r.user, code, want[r.user], r.msg)
		}
	}
	if len(recs) != 2 {
		t.Fatalf("records %+v, want carol's removal and alice's credential", recs)
	}
	if r, ok := recs[1].(*metadata.UserScramCredentialRecord); !ok || r.Name != "alice" || r.Iterations != 8192 || len(r.StoredKey) != 64 {
		t.Fatalf("alice's record %+v", recs[1])
	}
}
