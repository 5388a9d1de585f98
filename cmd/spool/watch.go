package main

import (
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// stage is how far a command got, for the message when --timeout ends it.
type stage int

const (
	stageDial      stage = iota // opening a TCP connection to a seed
	stageHandshake              // connected; waiting for the first Kafka answer
	stageRun                    // connected; running the command's requests
)

// watch follows a command's requests (as a kgo hook) so that when
// --timeout ends the command, the message names the broker and request
// that did not answer rather than a bare "context deadline exceeded".
type watch struct {
	mu       sync.Mutex
	stage    stage
	target   string
	inflight map[inflightKey]time.Time
	connErr  map[string]error // last connection failure per broker address
	streamed chan struct{}
	once     sync.Once
}

type inflightKey struct {
	node int32
	addr string
	key  int16
}

var (
	_ kgo.HookBrokerWrite   = (*watch)(nil)
	_ kgo.HookBrokerRead    = (*watch)(nil)
	_ kgo.HookBrokerConnect = (*watch)(nil)
)

func newWatch() *watch {
	return &watch{inflight: map[inflightKey]time.Time{}, connErr: map[string]error{}, streamed: make(chan struct{})}
}

func (w *watch) set(st stage, target string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stage, w.target = st, target
}

// startStream marks the end of the part --timeout bounds.
func (w *watch) startStream() { w.once.Do(func() { close(w.streamed) }) }

func brokerAddr(m kgo.BrokerMetadata) string {
	return net.JoinHostPort(m.Host, strconv.Itoa(int(m.Port)))
}

// OnBrokerWrite records a request sent and not yet answered.
func (w *watch) OnBrokerWrite(m kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if err != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	k := inflightKey{m.NodeID, brokerAddr(m), key}
	if _, ok := w.inflight[k]; !ok {
		w.inflight[k] = time.Now()
	}
}

// OnBrokerRead clears a request once its answer arrived.
func (w *watch) OnBrokerRead(m kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, _ error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.inflight, inflightKey{m.NodeID, brokerAddr(m), key})
}

// OnBrokerConnect remembers why a broker could not be reached: the cluster
// may advertise an address this machine cannot connect to.
func (w *watch) OnBrokerConnect(m kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.connErr[brokerAddr(m)] = err
	} else {
		delete(w.connErr, brokerAddr(m))
	}
}

// timeoutError says what had not answered when --timeout ran out.
func (w *watch) timeoutError(cmdPath string, timeout time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch w.stage {
	case stageDial:
		return fmt.Errorf("cannot reach a Kafka broker at %s: no TCP connection within %v (--timeout); is the host up, or a firewall in the way?", w.target, timeout)
	case stageHandshake:
		return fmt.Errorf("%s accepted a connection but gave no Kafka answer within %v (--timeout): a stopped or overloaded broker, or not a Kafka listener", w.target, timeout)
	}
	for addr, err := range w.connErr {
		return fmt.Errorf("%s: timed out after %v (--timeout): cannot connect to the broker the cluster advertises at %s: %v (check advertised.listeners)", cmdPath, timeout, addr, causeOf(err))
	}
	var oldest inflightKey
	var since time.Time
	for k, t := range w.inflight {
		if since.IsZero() || t.Before(since) {
			oldest, since = k, t
		}
	}
	if !since.IsZero() {
		return fmt.Errorf("%s: timed out after %v (--timeout): broker %s at %s has not answered a %s request sent %v ago; see `spool cluster health`",
			cmdPath, timeout, nodeName(oldest.node), oldest.addr, kmsg.NameForKey(oldest.key), time.Since(since).Round(time.Millisecond))
	}
	return fmt.Errorf("%s: timed out after %v (--timeout) waiting for the cluster; see `spool cluster health`", cmdPath, timeout)
}

// nodeName prints a broker id; kgo gives seed brokers large negative ids.
func nodeName(id int32) string {
	if id < -1 {
		return "(bootstrap)"
	}
	return strconv.Itoa(int(id))
}
