package controller

import (
	"context"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/authz"
	"spool/controller/metadata"
)

// CreateAcls validates each creation (Kafka's rules, INVALID_REQUEST) and
// writes an AccessControlEntryRecord for each valid one in one batch. A
// binding that already exists is not written twice; its creation still
// succeeds, as in Kafka.
func (c *Controller) CreateAcls(ctx context.Context, req *kmsg.CreateACLsRequest) *kmsg.CreateACLsResponse {
	resp := req.ResponseKind().(*kmsg.CreateACLsResponse)
	results := make([]kmsg.CreateACLsResponseResult, len(req.Creations))
	for i := range results {
		results[i] = kmsg.NewCreateACLsResponseResult()
	}
	var mu sync.Mutex // the build runs on the controller's goroutine
	err := c.write(ctx, func(img *metadata.Image) ([]metadata.Record, error) {
		mu.Lock()
		defer mu.Unlock()
		return aclCreations(img.ACLs, req, results), nil
	})
	mu.Lock()
	defer mu.Unlock()
	for i := range results {
		if err != nil && results[i].ErrorCode == 0 {
			msg := err.Error()
			results[i].ErrorCode, results[i].ErrorMessage = errorCode(err), &msg
		}
	}
	resp.Results = results
	return resp
}

// aclCreations is the pure part of CreateAcls: it fills the per-creation
// errors and returns the records to write.
func aclCreations(acls *metadata.ACLs, req *kmsg.CreateACLsRequest, results []kmsg.CreateACLsResponseResult) []metadata.Record {
	var recs []metadata.Record
	existing := acls.Sorted()
	for i := range req.Creations {
		a := authz.FromCreation(&req.Creations[i])
		if msg := authz.ValidateNew(a); msg != "" {
			results[i].ErrorCode, results[i].ErrorMessage = kerr.InvalidRequest.Code, &msg
			continue
		}
		dup := false
		for _, e := range existing {
			if authz.SameBinding(e, a) {
				dup = true
				break
			}
		}
		for _, r := range recs {
			if authz.SameBinding(&r.(*metadata.AccessControlEntryRecord).ACL, a) {
				dup = true
			}
		}
		if dup {
			continue
		}
		a.ID = authz.NewID()
		recs = append(recs, &metadata.AccessControlEntryRecord{ACL: *a})
	}
	return recs
}

// DeleteAcls removes every binding each filter matches, in one batch. A
// binding two filters match is removed once and reported by both.
func (c *Controller) DeleteAcls(ctx context.Context, req *kmsg.DeleteACLsRequest) *kmsg.DeleteACLsResponse {
	resp := req.ResponseKind().(*kmsg.DeleteACLsResponse)
	var mu sync.Mutex
	var results []kmsg.DeleteACLsResponseResult
	err := c.write(ctx, func(img *metadata.Image) ([]metadata.Record, error) {
		recs, res := aclDeletions(img.ACLs, req)
		mu.Lock()
		results = res
		mu.Unlock()
		return recs, nil
	})
	mu.Lock()
	defer mu.Unlock()
	if results == nil {
		results = make([]kmsg.DeleteACLsResponseResult, len(req.Filters))
		for i := range results {
			results[i] = kmsg.NewDeleteACLsResponseResult()
		}
	}
	for i := range results {
		if err != nil && results[i].ErrorCode == 0 {
			msg := err.Error()
			results[i].ErrorCode, results[i].ErrorMessage, results[i].MatchingACLs = errorCode(err), &msg, nil
		}
	}
	resp.Results = results
	return resp
}

func aclDeletions(acls *metadata.ACLs, req *kmsg.DeleteACLsRequest) ([]metadata.Record, []kmsg.DeleteACLsResponseResult) {
	var recs []metadata.Record
	removed := map[[16]byte]bool{}
	results := make([]kmsg.DeleteACLsResponseResult, len(req.Filters))
	all := acls.Sorted()
	for i := range req.Filters {
		results[i] = kmsg.NewDeleteACLsResponseResult()
		f := authz.DeleteFilter(&req.Filters[i])
		if msg := f.Validate(); msg != "" {
			results[i].ErrorCode, results[i].ErrorMessage = kerr.InvalidRequest.Code, &msg
			continue
		}
		for _, a := range all {
			if !f.Matches(a) {
				continue
			}
			results[i].MatchingACLs = append(results[i].MatchingACLs, authz.MatchingACL(a))
			if !removed[a.ID] {
				removed[a.ID] = true
				recs = append(recs, &metadata.RemoveAccessControlEntryRecord{ID: a.ID})
			}
		}
	}
	return recs, results
}
