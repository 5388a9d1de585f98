package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"

	"spool/security"
)

// authenticated wraps h with the configured authentication and records
// the principal in the request's context (security.PrincipalFromContext):
// the basic-auth user, the certificate's mapped name, or ANONYMOUS without
// authentication. Any authenticated principal may read /metrics and
// /v1/loggers; the console authorizes that principal as the Kafka API
// would.
func (s *Server) authenticated(h http.Handler) http.Handler {
	switch s.settings.Auth {
	case AuthBasic:
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			user, pass, ok := r.BasicAuth()
			if !ok || !s.basic.check(user, pass) {
				if ok {
					s.log.Info("http authentication failed", zap.String("user", user), zap.String("remote", r.RemoteAddr))
				}
				w.Header().Set("WWW-Authenticate", `Basic realm="spool", charset="UTF-8"`)
				http.Error(w, "authentication required", http.StatusUnauthorized)
				return
			}
			h.ServeHTTP(w, r.WithContext(security.ContextWithPrincipal(r.Context(), security.User(user))))
		})
	case AuthMTLS:
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The handshake already required a certificate the truststore
			// verifies; this refuses anything that got here without one.
			if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
				http.Error(w, "a client certificate is required", http.StatusUnauthorized)
				return
			}
			name, err := s.settings.Mapper.Map(security.SubjectDN(r.TLS.PeerCertificates[0]))
			if err != nil {
				http.Error(w, "client certificate name does not map to a principal", http.StatusForbidden)
				return
			}
			h.ServeHTTP(w, r.WithContext(security.ContextWithPrincipal(r.Context(), security.User(name))))
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(security.ContextWithPrincipal(r.Context(), security.Anonymous)))
	})
}

// basicAuth checks passwords against the SCRAM credentials in the metadata
// image (SCRAM-SHA-512 first, then SHA-256). Deriving the key costs
// thousands of hash rounds, so a password that checked out is remembered
// (as a hash bound to the credential) for a minute: scrapes stay cheap and
// a changed or deleted credential stops working within that minute.
type basicAuth struct {
	lookup security.ScramLookup
	now    func() time.Time
	mu     sync.Mutex
	ok     map[[32]byte]time.Time
}

const basicCacheTTL = time.Minute

func newBasicAuth(lookup security.ScramLookup) *basicAuth {
	return &basicAuth{lookup: lookup, now: time.Now, ok: map[[32]byte]time.Time{}}
}

func (b *basicAuth) check(user, pass string) bool {
	if b.lookup == nil || user == "" {
		return false
	}
	for _, mech := range []int8{security.ScramSHA512, security.ScramSHA256} {
		cred, found := b.lookup(user, mech)
		if !found {
			continue
		}
		key := cacheKey(user, pass, cred)
		now := b.now()
		b.mu.Lock()
		until, hit := b.ok[key]
		b.mu.Unlock()
		if hit && now.Before(until) {
			return true
		}
		derived, err := security.NewScramCredential(mech, pass, cred.Salt, int(cred.Iterations))
		if err != nil || subtle.ConstantTimeCompare(derived.StoredKey, cred.StoredKey) != 1 {
			return false
		}
		b.mu.Lock()
		for k, t := range b.ok {
			if !now.Before(t) {
				delete(b.ok, k)
			}
		}
		b.ok[key] = now.Add(basicCacheTTL)
		b.mu.Unlock()
		return true
	}
	return false
}

func cacheKey(user, pass string, cred security.ScramCredential) [32]byte {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(user), []byte(pass), cred.Salt, cred.StoredKey} {
		h.Write([]byte{byte(len(part) >> 8), byte(len(part))})
		h.Write(part)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}
