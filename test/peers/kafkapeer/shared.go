package kafkapeer

import (
	"sync"
	"testing"
)

// Shared is one peer for a whole test package, started by the first test
// that asks for it and stopped by TestMain after m.Run. A start that
// failed fails every test that asks, with the same error.
type Shared struct {
	// Options are used by the first Get.
	Options Options

	once sync.Once
	peer *Peer
	err  error
}

// Get returns the running peer, starting it on first use; it fails t if
// the peer cannot start or has died since.
func (s *Shared) Get(t testing.TB) *Peer {
	t.Helper()
	s.once.Do(func() { s.peer, s.err = Start(s.Options) })
	if s.err != nil {
		t.Fatal(s.err)
	}
	if s.peer == nil {
		t.Fatal("the shared Kafka peer was stopped")
	}
	if !s.peer.Running() {
		t.Fatalf("the shared Kafka peer exited: %v\n%s", s.peer.exit, s.peer.Log())
	}
	return s.peer
}

// Stop stops the peer if it was started.
func (s *Shared) Stop() error {
	s.once.Do(func() {}) // no start after Stop
	if s.peer == nil {
		return nil
	}
	return s.peer.Stop()
}

// StartT starts a peer for one test (or benchmark) and stops it when the
// test ends.
func StartT(t testing.TB, o Options) *Peer {
	t.Helper()
	p, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Errorf("stop kafka peer: %v", err)
		}
	})
	return p
}
