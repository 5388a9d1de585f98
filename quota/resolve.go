package quota

import "spool/controller/metadata"

// Resolved is the quota that binds a client for one key: its bound and
// the names its use is counted under. Clients sharing a user quota share
// one count (client "" here), clients under a client-id quota share one
// per client id, as in Kafka.
type Resolved struct {
	Bound        float64
	User, Client string
}

// Resolve finds key's quota for a client of user with client id, in
// KIP-55's order: user and client id, user and default client, user,
// default user and client id, default user and default client, default
// user, client id, default client. The first entity holding key wins;
// false when none does. It allocates nothing.
func Resolve(q Quotas, key, user, client string) (Resolved, bool) {
	if len(q) == 0 {
		return Resolved{}, false
	}
	u := metadata.QuotaName{Set: true, Name: user}
	c := metadata.QuotaName{Set: true, Name: client}
	du := metadata.QuotaName{Set: true, Default: true}
	dc := metadata.QuotaName{Set: true, Default: true}
	var none metadata.QuotaName
	order := [8]struct {
		user, client metadata.QuotaName
	}{{u, c}, {u, dc}, {u, none}, {du, c}, {du, dc}, {du, none}, {none, c}, {none, dc}}
	for _, o := range order {
		vals, ok := q[metadata.QuotaEntity{User: o.user, ClientID: o.client}]
		if !ok {
			continue
		}
		v, ok := vals[key]
		if !ok {
			continue
		}
		r := Resolved{Bound: v}
		if o.user.Set {
			r.User = user
		}
		if o.client.Set {
			r.Client = client
		}
		return r, true
	}
	return Resolved{}, false
}
