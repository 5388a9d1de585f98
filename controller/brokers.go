package controller

import (
	"bytes"
	"context"
	"crypto/sha256"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/protocol"
)

// brokerSessions is the active controller's view of broker liveness. It is
// not replicated: a new active controller starts every session afresh.
type brokerSessions struct {
	lastSeen map[int32]time.Time
	// regOffset is the offset at which the registration with epoch
	// regEpoch was applied; the broker is caught up once its metadata
	// offset reaches it.
	regOffset map[int32]int64
	regEpoch  map[int32]int64
	// since is when this controller became active: the start of every
	// session it has not yet heard from.
	since time.Time
	// conn is the connection each broker registered on: its heartbeats
	// and AlterPartition requests are served only there, so another
	// connection cannot fence it by guessing its epoch.
	conn map[int32]session
}

// session is the connection a request came in on.
type session struct {
	id   uint64
	open context.Context // done once the connection has closed
}

func sessionOf(req *protocol.Request) session { return session{id: req.ConnID, open: req.Context()} }

// owns reports whether s is the connection broker id registered on.
func (s *brokerSessions) owns(id int32, conn session) bool {
	b, ok := s.conn[id]
	return ok && b.id == conn.id
}

// connClosed reports whether broker id's registering connection is known
// to have closed (its process died or restarted); false when unknown.
func (s *brokerSessions) connClosed(id int32) (closed, known bool) {
	b, ok := s.conn[id]
	if !ok {
		return false, false
	}
	return b.open.Err() != nil, true
}

// hashIncarnation is what the metadata log keeps of a broker's incarnation
// id: the log can be read by anyone who reaches the controller listener,
// and the id itself is the secret that lets a broker take its session
// over to a new connection.
func hashIncarnation(clusterID string, id [16]byte) [16]byte {
	h := sha256.New()
	h.Write([]byte(clusterID))
	h.Write(id[:])
	var out [16]byte
	copy(out[:], h.Sum(nil))
	return out
}

func newBrokerSessions() brokerSessions {
	return brokerSessions{lastSeen: map[int32]time.Time{}, regOffset: map[int32]int64{}, regEpoch: map[int32]int64{}, conn: map[int32]session{}}
}

// reset gives every broker a fresh session, as a new active controller
// cannot know when they last heartbeated.
func (s *brokerSessions) reset(now time.Time) {
	clear(s.lastSeen)
	s.since = now
}

func (s *brokerSessions) seen(id int32, now time.Time) { s.lastSeen[id] = now }

// expired reports whether broker id's session has lapsed.
func (s *brokerSessions) expired(id int32, now time.Time, timeout time.Duration) bool {
	last, ok := s.lastSeen[id]
	if !ok {
		last = s.since
	}
	return now.Sub(last) > timeout
}

// applied notes where each broker's current registration landed.
func (s *brokerSessions) applied(img *metadata.Image) {
	for id, b := range img.Brokers {
		if e, ok := s.regEpoch[id]; !ok || e != b.Epoch {
			s.regEpoch[id] = b.Epoch
			s.regOffset[id] = img.Offset
		}
	}
}

func (s *brokerSessions) caughtUp(id int32, offset int64) bool {
	at, ok := s.regOffset[id]
	return ok && offset >= at
}

// register builds the records for a BrokerRegistration request. A broker
// whose session is alive may register again only with its incarnation id
// (a retry, or its reconnection), or, once the connection it registered on
// has closed, with the same log dirs (its process restarting after a
// kill -9); anything else is another process claiming its id.
func register(img *metadata.Image, req *kmsg.BrokerRegistrationRequest, clusterID string, alive func(id int32) bool, connClosed func(id int32) (bool, bool)) ([]metadata.Record, int64, error) {
	if req.ClusterID != clusterID {
		return nil, -1, kerr.InconsistentClusterID
	}
	if req.BrokerID < 0 {
		return nil, -1, kerr.InvalidRequest
	}
	old := img.Brokers[req.BrokerID]
	incarnation := hashIncarnation(clusterID, req.IncarnationID)
	if old != nil && old.IncarnationID == incarnation {
		return nil, old.Epoch, nil // a retry of a registration that already committed
	}
	if old != nil && alive(req.BrokerID) {
		closed, known := connClosed(req.BrokerID)
		if (known && !closed) || !sameDirs(old.LogDirs, req.LogDirs) {
			return nil, -1, kerr.DuplicateBrokerRegistration
		}
	}
	epoch := img.Offset + 1
	for _, b := range img.Brokers {
		epoch = max(epoch, b.Epoch+1)
	}
	rec := &metadata.RegisterBrokerRecord{
		BrokerID:      req.BrokerID,
		IncarnationID: incarnation,
		BrokerEpoch:   epoch,
		Rack:          req.Rack,
		Fenced:        true,
		LogDirs:       req.LogDirs,
	}
	for _, l := range req.Listeners {
		rec.EndPoints = append(rec.EndPoints, metadata.BrokerEndpoint{Name: l.Name, Host: l.Host, Port: l.Port, SecurityProtocol: l.SecurityProtocol})
	}
	for _, f := range req.Features {
		rec.Features = append(rec.Features, metadata.BrokerFeature{Name: f.Name, MinSupportedVersion: f.MinSupportedVersion, MaxSupportedVersion: f.MaxSupportedVersion})
	}
	return []metadata.Record{rec}, epoch, nil
}

func sameDirs(a, b [][16]byte) bool {
	if len(a) == 0 || len(a) != len(b) {
		return false
	}
	a, b = slices.Clone(a), slices.Clone(b)
	cmp := func(x, y [16]byte) int { return bytes.Compare(x[:], y[:]) }
	slices.SortFunc(a, cmp)
	slices.SortFunc(b, cmp)
	return slices.Equal(a, b)
}

// fence builds the records that fence broker id and move leadership of the
// partitions it leads to another in-sync, unfenced replica.
func fence(img *metadata.Image, id int32) []metadata.Record {
	b := img.Brokers[id]
	if b == nil {
		return nil
	}
	recs := []metadata.Record{&metadata.BrokerRegistrationChangeRecord{BrokerID: id, BrokerEpoch: b.Epoch, Fenced: metadata.FenceChangeFence}}
	return append(recs, moveLeadersAway(img, id)...)
}

// unfence builds the records that unfence broker id and give it leadership
// of leaderless partitions it can lead.
func unfence(img *metadata.Image, id int32) []metadata.Record {
	b := img.Brokers[id]
	if b == nil {
		return nil
	}
	recs := []metadata.Record{&metadata.BrokerRegistrationChangeRecord{BrokerID: id, BrokerEpoch: b.Epoch, Fenced: metadata.FenceChangeUnfence}}
	img.Topics.Range(func(t *metadata.Topic) bool {
		for _, p := range t.Partitions {
			if p.Leader == metadata.NoLeader && slices.Contains(p.ISR, id) {
				pc := metadata.NewPartitionChangeRecord(t.ID, p.ID)
				pc.Leader = id
				recs = append(recs, pc)
			}
		}
		return true
	})
	return recs
}

// moveLeadersAway elects a new leader, from the ISR minus id, for every
// partition id leads, and drops id from the ISRs it belongs to. A partition
// whose ISR would become empty keeps id as its last ISR member and becomes
// leaderless; whether an out-of-sync replica may take it over is the
// leaderless pass's decision (unclean.go).
func moveLeadersAway(img *metadata.Image, id int32) []metadata.Record {
	var recs []metadata.Record
	usable := func(r int32) bool {
		b := img.Brokers[r]
		return r != id && b != nil && !b.Fenced && !b.InControlledShutdown
	}
	img.Topics.Range(func(t *metadata.Topic) bool {
		for _, p := range t.Partitions {
			if !slices.Contains(p.ISR, id) {
				continue
			}
			pc := metadata.NewPartitionChangeRecord(t.ID, p.ID)
			if isr := slices.DeleteFunc(slices.Clone(p.ISR), func(r int32) bool { return r == id }); len(isr) > 0 {
				pc.ISR = isr
			}
			if p.Leader == id {
				pc.Leader = metadata.NoLeader
				for _, r := range p.Replicas {
					if usable(r) && slices.Contains(p.ISR, r) {
						pc.Leader = r
						break
					}
				}
			}
			if pc.ISR != nil || pc.Leader != metadata.NoLeaderChange {
				recs = append(recs, pc)
			}
		}
		return true
	})
	return recs
}
