package protocol

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"spool/config"
)

// Limits are the connection limits and timeouts of a Server, Kafka's
// max.connections family plus Spool's bound on slow frames.
type Limits struct {
	// MaxConnections bounds the connections of all listeners together,
	// except the Exempt ones (Kafka exempts the inter-broker listener, so
	// clients can never lock replication out).
	MaxConnections int
	Exempt         map[string]bool
	// PerListener bounds the connections of one listener (upper-case
	// name), exempt or not: listener.name.<l>.max.connections.
	PerListener map[string]int
	// MaxPerIP bounds the connections from one address; PerIP replaces it
	// for the addresses listed.
	MaxPerIP int
	PerIP    map[netip.Addr]int
	// Idle closes a connection that has sent nothing and has nothing in
	// flight for this long (connections.max.idle.ms).
	Idle time.Duration
	// FrameTimeout bounds how long a request frame may take to arrive once
	// its size has (socket.request.read.timeout.ms): a sender trickling a
	// byte a second is closed instead of holding a connection forever.
	FrameTimeout time.Duration
	// QueuedBytes is queued.max.request.bytes, the bytes of request frames
	// read and not yet answered; 0 derives it (see QueuedBytes).
	QueuedBytes int64
}

// DefaultLimits are the limits of the config table's defaults.
func DefaultLimits() Limits {
	return Limits{MaxConnections: 1<<31 - 1, MaxPerIP: 1<<31 - 1, Idle: 10 * time.Minute, FrameTimeout: 30 * time.Second}
}

// LimitsFromConfig reads the limits from a broker's static config. exempt
// names the listeners max.connections does not count (the inter-broker
// listener). Host names in the overrides are resolved now, as Kafka does.
func LimitsFromConfig(c *config.Config, exempt ...string) (Limits, error) {
	l := Limits{
		MaxConnections: int(c.Int("max.connections")),
		MaxPerIP:       int(c.Int("max.connections.per.ip")),
		Idle:           time.Duration(c.Int("connections.max.idle.ms")) * time.Millisecond,
		FrameTimeout:   time.Duration(c.Int("socket.request.read.timeout.ms")) * time.Millisecond,
		QueuedBytes:    QueuedBytes(c.Int("queued.max.request.bytes"), int(c.Int("socket.request.max.bytes"))),
		Exempt:         map[string]bool{},
		PerIP:          map[netip.Addr]int{},
		PerListener:    map[string]int{},
	}
	for _, name := range exempt {
		l.Exempt[name] = true
	}
	for _, k := range c.ListenerOverrides() {
		if lk, _ := config.LookupListenerKey(k); lk.Def != nil && lk.Def.Name == "max.connections" {
			l.PerListener[lk.Listener] = int(c.Int(k))
		}
	}
	overrides, err := config.ParseConnectionOverrides(c.Get("max.connections.per.ip.overrides"))
	if err != nil {
		return l, fmt.Errorf("max.connections.per.ip.overrides: %w", err)
	}
	if l.MaxPerIP == 0 && len(overrides) == 0 {
		return l, fmt.Errorf("max.connections.per.ip can be 0 only if max.connections.per.ip.overrides lists the addresses allowed")
	}
	for host, n := range overrides {
		if ip, err := netip.ParseAddr(host); err == nil {
			l.PerIP[ip.Unmap()] = n
			continue
		}
		ips, err := net.LookupIP(host)
		if err != nil {
			return l, fmt.Errorf("max.connections.per.ip.overrides: cannot resolve %s: %w", host, err)
		}
		for _, ip := range ips {
			if a, ok := netip.AddrFromSlice(ip); ok {
				l.PerIP[a.Unmap()] = n
			}
		}
	}
	return l, nil
}

// connCounter admits connections within the limits and counts them per
// listener and per address.
type connCounter struct {
	mu         sync.Mutex
	total      int // connections counted against MaxConnections
	perIP      map[netip.Addr]int
	byListener map[string]int
}

func newConnCounter() *connCounter {
	return &connCounter{perIP: map[netip.Addr]int{}, byListener: map[string]int{}}
}

// errLimit says which limit refused a connection.
type errLimit string

func (e errLimit) Error() string { return string(e) }

// admit counts a new connection, or says which limit it would break.
func (cc *connCounter) admit(l *Limits, listener string, ip netip.Addr) error {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	exempt := l.Exempt[listener]
	if !exempt && cc.total >= l.MaxConnections {
		return errLimit("max.connections")
	}
	if most, ok := l.PerListener[strings.ToUpper(listener)]; ok && cc.byListener[listener] >= most {
		return errLimit("listener.name." + strings.ToLower(listener) + ".max.connections")
	}
	limit, ok := l.PerIP[ip]
	if !ok {
		limit = l.MaxPerIP
	}
	if ip.IsValid() && cc.perIP[ip] >= limit {
		return errLimit("max.connections.per.ip")
	}
	if !exempt {
		cc.total++
	}
	if ip.IsValid() {
		cc.perIP[ip]++
	}
	cc.byListener[listener]++
	return nil
}

func (cc *connCounter) release(l *Limits, listener string, ip netip.Addr) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if !l.Exempt[listener] {
		cc.total--
	}
	if ip.IsValid() {
		if cc.perIP[ip]--; cc.perIP[ip] <= 0 {
			delete(cc.perIP, ip)
		}
	}
	cc.byListener[listener]--
}

// snapshot returns the open connections per listener.
func (cc *connCounter) snapshot() map[string]int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	out := make(map[string]int, len(cc.byListener))
	for k, v := range cc.byListener {
		out[k] = v
	}
	return out
}

// remoteIP is the address of a connection's peer, invalid for non-IP
// connections (which no per-IP limit applies to).
func remoteIP(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(ta.IP); ok {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}
