package quota

import (
	"sync"
	"time"

	"spool/controller/metadata"
)

// Kind is what a client quota limits.
type Kind int8

const (
	// Produce is producer_byte_rate: bytes of produce requests.
	Produce Kind = iota
	// Fetch is consumer_byte_rate: bytes of fetch responses to consumers.
	Fetch
	// Request is request_percentage: time spent serving the client's
	// requests, as a percentage of one thread.
	Request
	// Connection is connection_creation_rate of an ip entity: new
	// connections from one address per second.
	Connection
)

// mutationKind counts controller mutations (a token bucket, not a rate).
const mutationKind Kind = Connection + 1

var kindKeys = [...]string{Produce: ProducerByteRate, Fetch: ConsumerByteRate, Request: RequestPercentage,
	Connection: ConnectionCreationRate, mutationKind: ControllerMutationRate}

// Key is the quota key that bounds k.
func (k Kind) Key() string { return kindKeys[k] }

type sensorKey struct {
	kind         Kind
	user, client string
}

type sensor struct {
	mu     sync.Mutex
	rate   *Rate
	bucket *tokenBucket // controller mutations only
	last   int64        // unix nanoseconds of the last use, for expiry
}

// sensorIdle is how long an unused count is kept (Kafka expires its quota
// sensors after an hour too).
const sensorIdle = time.Hour

// Manager measures clients' use against the quotas in force and answers
// how long each must be throttled. Quotas are read through a function on
// every use, so a change in the metadata image applies to the next
// request. Safe for concurrent use; recording allocates only the first
// time a client is counted.
type Manager struct {
	win    Window
	quotas func() Quotas

	mu        sync.RWMutex
	sensors   map[sensorKey]*sensor
	nextSweep int64
}

// NewManager makes a manager over the quotas quotas returns.
func NewManager(w Window, quotas func() Quotas) *Manager {
	if w.Samples < 1 {
		w.Samples = 1
	}
	if w.Size <= 0 {
		w.Size = time.Second
	}
	return &Manager{win: w, quotas: quotas, sensors: map[sensorKey]*sensor{}}
}

// Window is the sampling the manager measures with.
func (m *Manager) Window() Window { return m.win }

// Record counts v of kind for a client of user with client id at now and
// returns how long the client must be throttled; zero when no quota binds
// it.
func (m *Manager) Record(kind Kind, user, client string, v float64, now time.Time) time.Duration {
	res, ok := Resolve(m.quotas(), kind.Key(), user, client)
	if !ok {
		return 0
	}
	s := m.sensor(sensorKey{kind, res.User, res.Client}, now)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = now.UnixNano()
	var limit time.Duration
	if kind == Request {
		limit = m.win.Size // Kafka bounds request-time throttles at one window
	}
	return s.rate.RecordAndThrottle(m.win, v, res.Bound, now, limit)
}

// MaxInWindow is the most of kind a client may take in one go: its bound
// over the Samples-1 windows a rate is measured across at least (Kafka
// caps a consumer's fetch size so), or -1 when no quota binds it.
func (m *Manager) MaxInWindow(kind Kind, user, client string) float64 {
	res, ok := Resolve(m.quotas(), kind.Key(), user, client)
	if !ok {
		return -1
	}
	return res.Bound * float64(max(m.win.Samples-1, 1)) * m.win.Size.Seconds()
}

// RecordConnection counts a new connection from ip at now against its
// connection_creation_rate (the ip's own entity, else the default ip
// entity; every address is counted on its own) and returns how long to
// hold it before closing it; zero admits it. Like Kafka, the throttle is
// bounded by one window.
func (m *Manager) RecordConnection(ip string, now time.Time) time.Duration {
	q := m.quotas()
	if len(q) == 0 {
		return 0
	}
	vals, ok := q[metadata.QuotaEntity{IP: metadata.QuotaName{Set: true, Name: ip}}]
	bound, found := vals[ConnectionCreationRate]
	if !ok || !found {
		vals = q[metadata.QuotaEntity{IP: metadata.QuotaName{Set: true, Default: true}}]
		if bound, found = vals[ConnectionCreationRate]; !found {
			return 0
		}
	}
	s := m.sensor(sensorKey{Connection, "", ip}, now)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = now.UnixNano()
	return s.rate.RecordAndThrottle(m.win, 1, bound, now, m.win.Size)
}

// Rate is kind's measured rate for the count user and client fall under,
// per second; zero when no quota binds them or nothing was counted.
func (m *Manager) Rate(kind Kind, user, client string, now time.Time) float64 {
	res, ok := Resolve(m.quotas(), kind.Key(), user, client)
	if !ok {
		return 0
	}
	m.mu.RLock()
	s := m.sensors[sensorKey{kind, res.User, res.Client}]
	m.mu.RUnlock()
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rate.PerSecond(m.win, now)
}

func (m *Manager) sensor(k sensorKey, now time.Time) *sensor {
	m.mu.RLock()
	s := m.sensors[k]
	sweep := now.UnixNano() >= m.nextSweep
	m.mu.RUnlock()
	if s != nil && !sweep {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if sweep {
		m.expire(now)
	}
	if s = m.sensors[k]; s == nil {
		s = &sensor{rate: NewRate(m.win, now)}
		m.sensors[k] = s
	}
	return s
}

// expire drops counts unused for sensorIdle; the caller holds mu.
func (m *Manager) expire(now time.Time) {
	t := now.UnixNano()
	m.nextSweep = t + int64(time.Minute)
	for k, s := range m.sensors {
		s.mu.Lock()
		idle := t-s.last >= int64(sensorIdle)
		s.mu.Unlock()
		if idle {
			delete(m.sensors, k)
		}
	}
}
