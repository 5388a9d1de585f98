// Package conformance diffs Spool against Apache Kafka: the same requests,
// sent with kmsg to one Kafka peer and one Spool node shared by every test
// of the package, and their answers compared (ApiVersions, and the
// catalogue of scripted requests in catalogue*.go).
package conformance

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"spool/test/harness"
	"spool/test/peers/kafkapeer"
)

// common are the broker properties both servers run with, on top of their
// own defaults: no initial rebalance delay (group tests would wait 3 s per
// join otherwise) and single-replica internal topics, as Kafka's own
// single-node config/server.properties has them.
var common = map[string]string{
	"group.initial.rebalance.delay.ms":         "0",
	"offsets.topic.replication.factor":         "1",
	"transaction.state.log.replication.factor": "1",
	"transaction.state.log.min.isr":            "1",
}

// kafka is formatted without eligible leader replicas (KIP-966, on by
// default since Kafka 4.1), which Spool does not implement: with it Kafka
// writes a cluster-wide min.insync.replicas at bootstrap and caps a
// topic's min.insync.replicas at its replication factor, and every
// describe and acks=all answer would differ for that one reason.
var kafka = kafkapeer.Shared{Options: kafkapeer.Options{Overrides: common,
	Features: map[string]string{"eligible.leader.replicas.version": "0"}}}

var spool sharedSpool

func TestMain(m *testing.M) {
	code := m.Run()
	if err := kafka.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop kafka peer:", err)
	}
	spool.stop()
	os.Exit(code)
}

// sharedSpool is one spool node for the whole package, started by the
// first test that asks for it.
type sharedSpool struct {
	once sync.Once
	tb   *packageTB
	node *harness.Node
	err  error
}

func (s *sharedSpool) get(t testing.TB) *harness.Node {
	t.Helper()
	s.once.Do(func() {
		s.tb = &packageTB{}
		defer func() {
			if r := recover(); r != nil {
				if f, ok := r.(fatal); ok {
					s.err = fmt.Errorf("start spool: %s", string(f))
					return
				}
				panic(r)
			}
		}()
		props := map[string]string{}
		for k, v := range common {
			props[k] = v
		}
		s.node = harness.SingleNode(s.tb, props)
		s.node.Start()
	})
	if s.err != nil {
		t.Fatal(s.err)
	}
	if !s.node.Running() {
		t.Fatalf("the shared spool node exited:\n%s", s.node.Output())
	}
	return s.node
}

func (s *sharedSpool) stop() {
	s.once.Do(func() {})
	if s.node != nil {
		if err := s.node.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stop spool: %v\n%s", err, s.node.Output())
		}
	}
	if s.tb != nil {
		s.tb.cleanup()
	}
}

// fatal is what packageTB's Fatal panics with.
type fatal string

// packageTB lets test/harness start a node that outlives any one test: it
// implements what harness calls (Helper, TempDir, Cleanup, Fatal, Logf);
// Fatal panics with the message, recovered by sharedSpool.get.
type packageTB struct {
	testing.TB
	mu       sync.Mutex
	cleanups []func()
}

func (p *packageTB) Helper() {}

func (p *packageTB) TempDir() string {
	dir, err := os.MkdirTemp("", "conformance-spool-*")
	if err != nil {
		p.Fatal(err)
	}
	p.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func (p *packageTB) Cleanup(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cleanups = append(p.cleanups, f)
}

func (p *packageTB) cleanup() {
	p.mu.Lock()
	fs := p.cleanups
	p.cleanups = nil
	p.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

func (p *packageTB) Fatal(args ...any)                 { panic(fatal(fmt.Sprint(args...))) }
func (p *packageTB) Fatalf(format string, args ...any) { panic(fatal(fmt.Sprintf(format, args...))) }
func (p *packageTB) Errorf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
func (p *packageTB) Logf(format string, args ...any)   { fmt.Fprintf(os.Stderr, format+"\n", args...) }
