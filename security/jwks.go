package security

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// JWKS is the set of keys OAUTHBEARER tokens are verified with, from a
// file (file:///path, re-read when a token names a key it lacks, at most
// once per backoff) or an http(s) URL (refreshed in the background).
type JWKS struct {
	cancel context.CancelFunc
	// file mode
	path    string
	backoff time.Duration
	mu      sync.Mutex
	lastTry time.Time
	kf      atomic.Pointer[keyfunc.Keyfunc]
}

// OpenJWKS loads the key set. A set that cannot be read at start is an
// error, so a broker never starts unable to validate any token.
func OpenJWKS(s OAuthSettings) (*JWKS, error) {
	u, err := url.Parse(s.JWKSURL)
	if err != nil || s.JWKSURL == "" {
		return nil, fmt.Errorf("sasl.oauthbearer.jwks.endpoint.url %q: want file:///path, http:// or https:// URL", s.JWKSURL)
	}
	j := &JWKS{backoff: max(s.RetryBackoff, 100*time.Millisecond)}
	switch u.Scheme {
	case "file":
		j.path = u.Path
		if err := j.loadFile(); err != nil {
			return nil, err
		}
		return j, nil
	case "http", "https":
	default:
		return nil, fmt.Errorf("sasl.oauthbearer.jwks.endpoint.url %q: want file:///path, http:// or https:// URL", s.JWKSURL)
	}
	ctx, cancel := context.WithCancel(context.Background())
	noErrFirst := false
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{s.JWKSURL}, keyfunc.Override{
		RefreshInterval:           s.Refresh,
		RefreshUnknownKID:         rate.NewLimiter(rate.Every(max(s.RetryMax, time.Second)), 1),
		HTTPTimeout:               max(s.HTTPTimeout, 10*time.Second),
		NoErrorReturnFirstHTTPReq: &noErrFirst,
		RefreshErrorHandlerFunc:   func(string) func(context.Context, error) { return func(context.Context, error) {} },
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("sasl.oauthbearer.jwks.endpoint.url %s: %w", s.JWKSURL, err)
	}
	j.cancel = cancel
	j.kf.Store(&kf)
	return j, nil
}

func (j *JWKS) loadFile() error {
	b, err := os.ReadFile(j.path)
	if err != nil {
		return fmt.Errorf("JWKS file: %w", unwrapPathErr(err))
	}
	if !json.Valid(b) {
		return fmt.Errorf("JWKS file %s is not JSON", j.path)
	}
	kf, err := keyfunc.NewJWKSetJSON(b)
	if err != nil {
		return fmt.Errorf("JWKS file %s: %w", j.path, err)
	}
	j.kf.Store(&kf)
	return nil
}

// Keyfunc finds the verification key of a token.
func (j *JWKS) Keyfunc(t *jwt.Token) (any, error) {
	k, err := (*j.kf.Load()).Keyfunc(t)
	if err == nil || j.path == "" {
		return k, err
	}
	// A rotated file: read it again, but not on every bad token.
	j.mu.Lock()
	reload := time.Since(j.lastTry) >= j.backoff
	if reload {
		j.lastTry = time.Now()
	}
	j.mu.Unlock()
	if !reload {
		return nil, err
	}
	if lerr := j.loadFile(); lerr != nil {
		return nil, errors.Join(err, lerr)
	}
	return (*j.kf.Load()).Keyfunc(t)
}

// Close stops background refreshing.
func (j *JWKS) Close() {
	if j.cancel != nil {
		j.cancel()
	}
}
