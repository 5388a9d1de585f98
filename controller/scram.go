package controller

import (
	"context"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/security"
)

// AlterUserScramCredentials validates each deletion and upsertion against
// the speculative image (Kafka's rules and error codes) and writes the
// records of the valid ones in one batch.
func (c *Controller) AlterUserScramCredentials(ctx context.Context, req *kmsg.AlterUserSCRAMCredentialsRequest) *kmsg.AlterUserSCRAMCredentialsResponse {
	resp := req.ResponseKind().(*kmsg.AlterUserSCRAMCredentialsResponse)
	var mu sync.Mutex // the build runs on the controller's goroutine
	var results []scramResult
	err := c.write(ctx, func(img *metadata.Image) ([]metadata.Record, error) {
		recs, res := scramChanges(img, req)
		mu.Lock()
		results = res
		mu.Unlock()
		return recs, nil
	})
	mu.Lock()
	defer mu.Unlock()
	for _, r := range results {
		rr := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
		rr.User = r.user
		if r.err != nil {
			rr.ErrorCode, rr.ErrorMessage = r.err.Code, &r.msg
		} else if err != nil {
			msg := err.Error()
			rr.ErrorCode, rr.ErrorMessage = errorCode(err), &msg
		}
		resp.Results = append(resp.Results, rr)
	}
	if results == nil && err != nil {
		// Not the active controller: every user gets the error.
		msg := err.Error()
		for _, u := range scramUsers(req) {
			rr := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
			rr.User, rr.ErrorCode, rr.ErrorMessage = u, errorCode(err), &msg
			resp.Results = append(resp.Results, rr)
		}
	}
	return resp
}

type scramResult struct {
	user string
	err  *kerr.Error
	msg  string
}

func scramUsers(req *kmsg.AlterUserSCRAMCredentialsRequest) []string {
	var out []string
	seen := map[string]bool{}
	add := func(u string) {
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	for _, d := range req.Deletions {
		add(d.Name)
	}
	for _, u := range req.Upsertions {
		add(u.Name)
	}
	return out
}

// scramChanges is the pure part: one result per user (in request order)
// and the records of the users whose every change is valid. Like Kafka, a
// user named twice for one mechanism gets DUPLICATE_RESOURCE and none of
// its changes apply.
func scramChanges(img *metadata.Image, req *kmsg.AlterUserSCRAMCredentialsRequest) ([]metadata.Record, []scramResult) {
	users := scramUsers(req)
	failed := map[string]scramResult{}
	fail := func(user string, e *kerr.Error, msg string) {
		if _, ok := failed[user]; !ok {
			failed[user] = scramResult{user, e, msg}
		}
	}
	type key = metadata.ScramKey
	count := map[key]int{}
	for _, d := range req.Deletions {
		count[key{Name: d.Name, Mechanism: d.Mechanism}]++
	}
	for _, u := range req.Upsertions {
		count[key{Name: u.Name, Mechanism: u.Mechanism}]++
	}
	for k, n := range count {
		if n > 1 {
			fail(k.Name, kerr.DuplicateResource, "A user credential cannot be altered twice in the same request")
		}
	}
	recs := map[string][]metadata.Record{}
	for _, d := range req.Deletions {
		switch _, ok := img.Scram(d.Name, d.Mechanism); {
		case d.Name == "":
			fail(d.Name, kerr.UnacceptableCredential, "Username must not be empty")
		case security.ScramMechanismName(d.Mechanism) == "UNKNOWN":
			fail(d.Name, kerr.UnsupportedSaslMechanism, "Unknown SCRAM mechanism")
		case !ok:
			fail(d.Name, kerr.ResourceNotFound, "Attempt to delete a user credential that does not exist")
		default:
			recs[d.Name] = append(recs[d.Name], &metadata.RemoveUserScramCredentialRecord{Name: d.Name, Mechanism: d.Mechanism})
		}
	}
	for _, u := range req.Upsertions {
		rec, e, msg := scramUpsertion(u)
		if e != nil {
			fail(u.Name, e, msg)
			continue
		}
		recs[u.Name] = append(recs[u.Name], rec)
	}
	var out []metadata.Record
	results := make([]scramResult, 0, len(users))
	for _, u := range users {
		if r, ok := failed[u]; ok {
			results = append(results, r)
			continue
		}
		out = append(out, recs[u]...)
		results = append(results, scramResult{user: u})
	}
	return out, results
}

// scramUpsertion turns a client's salted password into the stored keys.
func scramUpsertion(u kmsg.AlterUserSCRAMCredentialsRequestUpsertion) (*metadata.UserScramCredentialRecord, *kerr.Error, string) {
	switch {
	case u.Name == "":
		return nil, kerr.UnacceptableCredential, "Username must not be empty"
	case security.ScramMechanismName(u.Mechanism) == "UNKNOWN":
		return nil, kerr.UnsupportedSaslMechanism, "Unknown SCRAM mechanism"
	case u.Iterations < security.MinScramIterations:
		return nil, kerr.UnacceptableCredential, "Too few iterations"
	case u.Iterations > security.MaxScramIterations:
		return nil, kerr.UnacceptableCredential, "Too many iterations"
	case len(u.SaltedPassword) == 0 || len(u.Salt) == 0:
		return nil, kerr.UnacceptableCredential, "Salt and salted password must not be empty"
	}
	cred, err := security.CredentialFromSalted(u.Mechanism, u.SaltedPassword, u.Salt, int(u.Iterations))
	if err != nil {
		return nil, kerr.UnacceptableCredential, err.Error()
	}
	return &metadata.UserScramCredentialRecord{Name: u.Name, Mechanism: u.Mechanism, Salt: cred.Salt,
		StoredKey: cred.StoredKey, ServerKey: cred.ServerKey, Iterations: cred.Iterations}, nil, ""
}
