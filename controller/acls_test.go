package controller

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

func creation(name, principal string, op kmsg.ACLOperation) kmsg.CreateACLsRequestCreation {
	c := kmsg.NewCreateACLsRequestCreation()
	c.ResourceType, c.ResourceName, c.ResourcePatternType = kmsg.ACLResourceTypeTopic, name, kmsg.ACLResourcePatternTypeLiteral
	c.Principal, c.Host, c.Operation, c.PermissionType = principal, "*", op, kmsg.ACLPermissionTypeAllow
	return c
}

func applyRecs(t *testing.T, img *metadata.Image, recs []metadata.Record) *metadata.Image {
	t.Helper()
	d := metadata.NewDelta(img)
	for _, r := range recs {
		if err := d.Replay(r); err != nil {
			t.Fatal(err)
		}
	}
	return d.Apply()
}

func TestACLCreationsAndDeletions(t *testing.T) {
	req := kmsg.NewPtrCreateACLsRequest()
	req.Creations = []kmsg.CreateACLsRequestCreation{
		creation("a", "User:x", kmsg.ACLOperationRead),
		creation("", "User:x", kmsg.ACLOperationRead),   // empty name
		creation("b", "nocolon", kmsg.ACLOperationRead), // bad principal
		creation("a", "User:x", kmsg.ACLOperationRead),  // same binding twice
		creation("b", "User:x", kmsg.ACLOperationAny),   // ANY is a filter value
		creation("b", "User:y", kmsg.ACLOperationWrite),
	}
	results := make([]kmsg.CreateACLsResponseResult, len(req.Creations))
	recs := aclCreations(metadata.Empty().ACLs, req, results)
	wantCodes := []int16{0, kerr.InvalidRequest.Code, kerr.InvalidRequest.Code, 0, kerr.InvalidRequest.Code, 0}
	for i, r := range results {
		if r.ErrorCode != wantCodes[i] {
			t.Errorf("creation %d: code %d, want %d", i, r.ErrorCode, wantCodes[i])
		}
	}
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	img := applyRecs(t, metadata.Empty(), recs)
	if again := aclCreations(img.ACLs, req, make([]kmsg.CreateACLsResponseResult, len(req.Creations))); len(again) != 0 {
		t.Fatalf("existing bindings written again: %d", len(again))
	}

	del := kmsg.NewPtrDeleteACLsRequest()
	byName := kmsg.NewDeleteACLsRequestFilter()
	byName.ResourceType, byName.ResourcePatternType = kmsg.ACLResourceTypeTopic, kmsg.ACLResourcePatternTypeAny
	byName.ResourceName = kmsg.StringPtr("a")
	byName.Operation, byName.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	everything := byName
	everything.ResourceName = nil
	bad := byName
	bad.ResourcePatternType = kmsg.ACLResourcePatternTypeUnknown
	del.Filters = []kmsg.DeleteACLsRequestFilter{byName, everything, bad}
	drecs, dres := aclDeletions(img.ACLs, del)
	if len(drecs) != 2 || len(dres[0].MatchingACLs) != 1 || len(dres[1].MatchingACLs) != 2 || dres[2].ErrorCode != kerr.InvalidRequest.Code {
		t.Fatalf("deletions: %d records, results %+v", len(drecs), dres)
	}
	if applyRecs(t, img, drecs).ACLs.Len() != 0 {
		t.Fatal("bindings left after deletion")
	}
}
