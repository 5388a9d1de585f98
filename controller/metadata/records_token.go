package metadata

import (
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kbin"
)

// Record types of delegation tokens (KIP-48; Kafka's numbers).
const (
	TypeDelegationToken       int16 = 10
	TypeRemoveDelegationToken int16 = 26
)

// DelegationTokenRecord (type 10, version 0) creates or renews a token.
// Principals are "Type:Name" strings. It never holds the token's HMAC:
// every node derives that from delegation.token.secret.key and the id.
type DelegationTokenRecord struct {
	Owner               string
	Requester           string
	Renewers            []string
	IssueTimestamp      int64
	MaxTimestamp        int64
	ExpirationTimestamp int64
	TokenID             string
	UnknownTags         []Tag
}

func (*DelegationTokenRecord) Type() int16    { return TypeDelegationToken }
func (*DelegationTokenRecord) Version() int16 { return 0 }

func (r *DelegationTokenRecord) AppendTo(dst []byte) []byte {
	dst = appendStr(dst, r.Owner)
	dst = appendStr(dst, r.Requester)
	dst = kbin.AppendCompactArrayLen(dst, len(r.Renewers))
	for _, s := range r.Renewers {
		dst = appendStr(dst, s)
	}
	dst = kbin.AppendInt64(dst, r.IssueTimestamp)
	dst = kbin.AppendInt64(dst, r.MaxTimestamp)
	dst = kbin.AppendInt64(dst, r.ExpirationTimestamp)
	dst = appendStr(dst, r.TokenID)
	return appendTags(dst, nil, r.UnknownTags)
}

func (r *DelegationTokenRecord) ReadFrom(b []byte, v int16) error {
	if err := checkVersion(v, 0); err != nil {
		return err
	}
	rd := newReader(b)
	r.Owner = rd.str()
	r.Requester = rd.str()
	n := rd.arrayLen(false, 1)
	for i := 0; i < n && rd.ok(); i++ {
		r.Renewers = append(r.Renewers, rd.str())
	}
	r.IssueTimestamp = rd.Int64()
	r.MaxTimestamp = rd.Int64()
	r.ExpirationTimestamp = rd.Int64()
	r.TokenID = rd.str()
	r.UnknownTags = rd.tags(nil)
	return rd.finish()
}

// RemoveDelegationTokenRecord (type 26, version 0) deletes a token: expired
// by its owner or a renewer, or past its expiry.
type RemoveDelegationTokenRecord struct {
	TokenID     string
	UnknownTags []Tag
}

func (*RemoveDelegationTokenRecord) Type() int16    { return TypeRemoveDelegationToken }
func (*RemoveDelegationTokenRecord) Version() int16 { return 0 }

func (r *RemoveDelegationTokenRecord) AppendTo(dst []byte) []byte {
	dst = appendStr(dst, r.TokenID)
	return appendTags(dst, nil, r.UnknownTags)
}

func (r *RemoveDelegationTokenRecord) ReadFrom(b []byte, v int16) error {
	if err := checkVersion(v, 0); err != nil {
		return err
	}
	rd := newReader(b)
	r.TokenID = rd.str()
	r.UnknownTags = rd.tags(nil)
	return rd.finish()
}

// DelegationToken is a token in the image.
type DelegationToken struct {
	TokenID   string
	Owner     string // "User:alice"
	Requester string
	Renewers  []string
	IssueMs   int64
	MaxMs     int64 // no renewal goes past this
	ExpiryMs  int64 // the token is refused after this unless renewed
}

// Token returns the token with id.
func (img *Image) Token(id string) (*DelegationToken, bool) {
	t, ok := img.Tokens[id]
	return t, ok
}

// tokenDelta changes the tokens copy-on-write.
type tokenDelta struct {
	base map[string]*DelegationToken
	next map[string]*DelegationToken
}

func (s *tokenDelta) writable() map[string]*DelegationToken {
	if s.next == nil {
		s.next = cloneMap(s.base)
		if s.next == nil {
			s.next = map[string]*DelegationToken{}
		}
	}
	return s.next
}

func (s *tokenDelta) current() map[string]*DelegationToken {
	if s.next != nil {
		return s.next
	}
	return s.base
}

func (s *tokenDelta) set(r *DelegationTokenRecord) error {
	if r.TokenID == "" || r.Owner == "" {
		return fmt.Errorf("token %q with owner %q", r.TokenID, r.Owner)
	}
	s.writable()[r.TokenID] = &DelegationToken{TokenID: r.TokenID, Owner: r.Owner, Requester: r.Requester,
		Renewers: r.Renewers, IssueMs: r.IssueTimestamp, MaxMs: r.MaxTimestamp, ExpiryMs: r.ExpirationTimestamp}
	return nil
}

func (s *tokenDelta) remove(r *RemoveDelegationTokenRecord) error {
	if _, ok := s.current()[r.TokenID]; !ok {
		return fmt.Errorf("no delegation token %q", r.TokenID)
	}
	delete(s.writable(), r.TokenID)
	return nil
}

func (img *Image) appendTokenRecords(recs []Record) []Record {
	for _, id := range sortedKeys(img.Tokens) {
		t := img.Tokens[id]
		recs = append(recs, &DelegationTokenRecord{Owner: t.Owner, Requester: t.Requester, Renewers: slices.Clone(t.Renewers),
			IssueTimestamp: t.IssueMs, MaxTimestamp: t.MaxMs, ExpirationTimestamp: t.ExpiryMs, TokenID: t.TokenID})
	}
	return recs
}
