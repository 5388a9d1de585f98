package broker

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/protocol"
)

// handleDescribeUserScramCredentials is DescribeUserScramCredentials v0
// (KIP-554), answered from the image: each user's mechanisms and iteration
// counts, never salts or keys. No users means every user with a credential.
func (b *Broker) handleDescribeUserScramCredentials(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.DescribeUserSCRAMCredentialsRequest)
	resp := r.ResponseKind().(*kmsg.DescribeUserSCRAMCredentialsResponse)
	img := b.Image()
	byUser := map[string][]*metadata.ScramUser{}
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
			res.ErrorMessage = strPtr("Cannot describe SCRAM credentials for the same user twice in a single request: " + name)
		case len(creds) == 0:
			res.ErrorCode = kerr.ResourceNotFound.Code
			res.ErrorMessage = strPtr("Attempt to describe a user credential that does not exist: " + name)
		}
		slices.SortFunc(creds, func(a, b *metadata.ScramUser) int { return int(a.Mechanism) - int(b.Mechanism) })
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
	respond(protocol.Msg(resp))
}

func strPtr(s string) *string { return &s }
