package metadata

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kbin"
)

// Record types of SCRAM credentials (Kafka's numbers).
const (
	TypeUserScramCredential       int16 = 11
	TypeRemoveUserScramCredential int16 = 22
)

// UserScramCredentialRecord (type 11, version 0) sets a user's credential
// for one SCRAM mechanism (1 SCRAM-SHA-256, 2 SCRAM-SHA-512). It holds the
// derived keys, never the password.
type UserScramCredentialRecord struct {
	Name        string
	Mechanism   int8
	Salt        []byte
	StoredKey   []byte
	ServerKey   []byte
	Iterations  int32
	UnknownTags []Tag
}

func (*UserScramCredentialRecord) Type() int16    { return TypeUserScramCredential }
func (*UserScramCredentialRecord) Version() int16 { return 0 }

func (r *UserScramCredentialRecord) AppendTo(dst []byte) []byte {
	dst = appendStr(dst, r.Name)
	dst = kbin.AppendInt8(dst, r.Mechanism)
	dst = kbin.AppendCompactBytes(dst, r.Salt)
	dst = kbin.AppendCompactBytes(dst, r.StoredKey)
	dst = kbin.AppendCompactBytes(dst, r.ServerKey)
	dst = kbin.AppendInt32(dst, r.Iterations)
	return appendTags(dst, nil, r.UnknownTags)
}

func (r *UserScramCredentialRecord) ReadFrom(b []byte, v int16) error {
	if err := checkVersion(v, 0); err != nil {
		return err
	}
	rd := newReader(b)
	r.Name = rd.str()
	r.Mechanism = rd.Int8()
	r.Salt = rd.bytes()
	r.StoredKey = rd.bytes()
	r.ServerKey = rd.bytes()
	r.Iterations = rd.Int32()
	r.UnknownTags = rd.tags(nil)
	return rd.finish()
}

// RemoveUserScramCredentialRecord (type 22, version 0) deletes a user's
// credential for one mechanism.
type RemoveUserScramCredentialRecord struct {
	Name        string
	Mechanism   int8
	UnknownTags []Tag
}

func (*RemoveUserScramCredentialRecord) Type() int16    { return TypeRemoveUserScramCredential }
func (*RemoveUserScramCredentialRecord) Version() int16 { return 0 }

func (r *RemoveUserScramCredentialRecord) AppendTo(dst []byte) []byte {
	dst = appendStr(dst, r.Name)
	dst = kbin.AppendInt8(dst, r.Mechanism)
	return appendTags(dst, nil, r.UnknownTags)
}

func (r *RemoveUserScramCredentialRecord) ReadFrom(b []byte, v int16) error {
	if err := checkVersion(v, 0); err != nil {
		return err
	}
	rd := newReader(b)
	r.Name = rd.str()
	r.Mechanism = rd.Int8()
	r.UnknownTags = rd.tags(nil)
	return rd.finish()
}

// bytes reads compact (non-nullable) bytes, copying them.
func (r *reader) bytes() []byte {
	u := r.Uvarint()
	if !r.ok() {
		return nil
	}
	n := int64(u) - 1
	if n < 0 {
		r.fail(errors.New("null in non-nullable bytes"))
		return nil
	}
	if n > int64(len(r.Src)) {
		r.fail(fmt.Errorf("bytes field of %d bytes with %d left", n, len(r.Src)))
		return nil
	}
	return bytes.Clone(r.Span(int(n)))
}

// ScramUser is a SCRAM credential in the image.
type ScramUser struct {
	Name       string
	Mechanism  int8
	Salt       []byte
	StoredKey  []byte
	ServerKey  []byte
	Iterations int32
}

// ScramKey names one credential: a user and a mechanism.
type ScramKey struct {
	Name      string
	Mechanism int8
}

// Scram returns the credential of user for mechanism.
func (img *Image) Scram(user string, mech int8) (*ScramUser, bool) {
	u, ok := img.ScramCredentials[ScramKey{user, mech}]
	return u, ok
}

// scramDelta changes the credentials copy-on-write.
type scramDelta struct {
	base map[ScramKey]*ScramUser
	next map[ScramKey]*ScramUser
}

func (s *scramDelta) writable() map[ScramKey]*ScramUser {
	if s.next == nil {
		s.next = cloneMap(s.base)
		if s.next == nil {
			s.next = map[ScramKey]*ScramUser{}
		}
	}
	return s.next
}

func (s *scramDelta) set(r *UserScramCredentialRecord) error {
	if r.Name == "" || (r.Mechanism != 1 && r.Mechanism != 2) || len(r.StoredKey) == 0 || len(r.ServerKey) == 0 || r.Iterations <= 0 {
		return fmt.Errorf("invalid credential for %q, mechanism %d", r.Name, r.Mechanism)
	}
	s.writable()[ScramKey{r.Name, r.Mechanism}] = &ScramUser{Name: r.Name, Mechanism: r.Mechanism,
		Salt: r.Salt, StoredKey: r.StoredKey, ServerKey: r.ServerKey, Iterations: r.Iterations}
	return nil
}

func (s *scramDelta) remove(r *RemoveUserScramCredentialRecord) error {
	k := ScramKey{r.Name, r.Mechanism}
	if _, ok := s.current()[k]; !ok {
		return fmt.Errorf("no credential for %q, mechanism %d", r.Name, r.Mechanism)
	}
	delete(s.writable(), k)
	return nil
}

func (s *scramDelta) current() map[ScramKey]*ScramUser {
	if s.next != nil {
		return s.next
	}
	return s.base
}

func (img *Image) appendScramRecords(recs []Record) []Record {
	keys := make([]ScramKey, 0, len(img.ScramCredentials))
	for k := range img.ScramCredentials {
		keys = append(keys, k)
	}
	sortScramKeys(keys)
	for _, k := range keys {
		u := img.ScramCredentials[k]
		recs = append(recs, &UserScramCredentialRecord{Name: u.Name, Mechanism: u.Mechanism, Salt: u.Salt,
			StoredKey: u.StoredKey, ServerKey: u.ServerKey, Iterations: u.Iterations})
	}
	return recs
}

func sortScramKeys(keys []ScramKey) {
	slices.SortFunc(keys, func(a, b ScramKey) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Mechanism, b.Mechanism))
	})
}
