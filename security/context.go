package security

import "context"

type principalKey struct{}

// ContextWithPrincipal records who an HTTP request authenticated as, for
// handlers that authorize it as the Kafka API would.
func ContextWithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFromContext returns the principal ContextWithPrincipal
// recorded; ok is false when none was.
func PrincipalFromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
