package security

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"testing"
)

func pbkdf2SHA256(t *testing.T, pass string, salt []byte, iters int) []byte {
	k, err := pbkdf2.Key(sha256.New, pass, salt, iters, sha256.Size)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
