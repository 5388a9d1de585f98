package metadata

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeScram answers DescribeUserScramCredentials from img (Kafka's
// rules): no users means every user with a credential; a user named twice
// gets DUPLICATE_RESOURCE, one without credentials RESOURCE_NOT_FOUND.
// Only mechanisms and iterations are told, never salts or keys.
func DescribeScram(img *Image, r *kmsg.DescribeUserSCRAMCredentialsRequest) *kmsg.DescribeUserSCRAMCredentialsResponse {
	resp := r.ResponseKind().(*kmsg.DescribeUserSCRAMCredentialsResponse)
	byUser := map[string][]*ScramUser{}
	for _, u := range img.ScramCredentials {
		byUser[u.Name] = append(byUser[u.Name], u)
	}
	var names []string
	asked := map[string]int{}
	if r.Users == nil {
		for name := range byUser {
			names = append(names, name)
		}
		slices.Sort(names)
	} else {
		for _, u := range r.Users {
			if asked[u.Name]++; asked[u.Name] == 1 {
				names = append(names, u.Name)
			}
		}
	}
	for _, name := range names {
		res := kmsg.NewDescribeUserSCRAMCredentialsResponseResult()
		res.User = name
		creds := byUser[name]
		switch {
		case asked[name] > 1:
			res.ErrorCode = kerr.DuplicateResource.Code
			res.ErrorMessage = ptr("Cannot describe SCRAM credentials for the same user twice in a single request: " + name)
		case len(creds) == 0:
			res.ErrorCode = kerr.ResourceNotFound.Code
			res.ErrorMessage = ptr("Attempt to describe a user credential that does not exist: " + name)
		}
		slices.SortFunc(creds, func(a, b *ScramUser) int { return int(a.Mechanism) - int(b.Mechanism) })
		for _, c := range creds {
			if res.ErrorCode != 0 {
				break
			}
			ci := kmsg.NewDescribeUserSCRAMCredentialsResponseResultCredentialInfo()
			ci.Mechanism, ci.Iterations = c.Mechanism, c.Iterations
			res.CredentialInfos = append(res.CredentialInfos, ci)
		}
		resp.Results = append(resp.Results, res)
	}
	return resp
}

func ptr(s string) *string { return &s }
