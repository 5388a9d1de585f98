package security

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
)

// TokenHMAC is a delegation token's HMAC (KIP-48): HMAC-SHA512 of the
// token id keyed with delegation.token.secret.key. It is the token's
// password, so it is never stored: every node derives it again.
func TokenHMAC(secret, tokenID string) []byte {
	m := hmac.New(sha512.New, []byte(secret))
	m.Write([]byte(tokenID))
	return m.Sum(nil)
}

// TokenPassword is the password a client authenticates a token with:
// its HMAC in base64, as Kafka's tools print it.
func TokenPassword(secret, tokenID string) string {
	return base64.StdEncoding.EncodeToString(TokenHMAC(secret, tokenID))
}
