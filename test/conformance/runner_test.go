package conformance

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// side is one server as a script sees it: its connection, the versions it
// serves, and what earlier steps saved (producer ids, member ids, topic
// ids), which differ between servers.
type side struct {
	name     string
	conn     *conn
	versions map[int16]*span
	vars     map[string]any
}

func (s *side) int64(k string) int64 { v, _ := s.vars[k].(int64); return v }
func (s *side) int32(k string) int32 { v, _ := s.vars[k].(int32); return v }
func (s *side) int16(k string) int16 { v, _ := s.vars[k].(int16); return v }
func (s *side) str(k string) string  { v, _ := s.vars[k].(string); return v }

// topicID is the id of topic on this server: the one its creation saved,
// else asked with Metadata (zero for a topic the server does not have),
// for the requests that name topics by id (Produce v13, OffsetCommit and
// OffsetFetch v10, Fetch v13).
func (s *side) topicID(topic string) [16]byte {
	if id, ok := s.vars["id:"+topic].([16]byte); ok {
		return id
	}
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(12)
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := s.conn.do(req, stepTimeout)
	if err != nil {
		return [16]byte{}
	}
	for _, t := range resp.(*kmsg.MetadataResponse).Topics {
		if t.ErrorCode == 0 && t.Topic != nil && *t.Topic == topic {
			s.vars["id:"+topic] = t.TopicID
			return t.TopicID
		}
	}
	return [16]byte{}
}

// A step is one request sent to both servers. Unless it is setup, the
// answers are compared: by default every ErrorCode; compare and ignore
// are path patterns over the flattened response (see flatten).
type step struct {
	name    string
	req     func(*side) kmsg.Request
	version *int16 // nil: the highest version both servers serve
	compare []string
	ignore  []string
	// setup steps are not compared; they are retried while their answer
	// carries a retriable error, and fail the script on any other error.
	setup bool
	// wait retries a compared step while either answer carries a
	// retriable error (a coordinator still loading, a leader not yet
	// known).
	wait bool
	// settle re-sends a compared step for up to stepTimeout until both
	// answers agree: for state the servers reach asynchronously
	// (transaction markers written after EndTxn; Kafka's brokers apply a
	// config change after the controller has acknowledged it).
	settle bool
	save   func(*side, kmsg.Response)
	// check, when set, must hold for each server's answer.
	check func(kmsg.Response) error
}

// A script is a named sequence of steps against fresh resources.
type script struct {
	name  string
	steps []step
}

func v(n int16) *int16 { return &n }

const stepTimeout = 30 * time.Second

// run plays a script against both servers and returns the differences of
// each compared step, keyed "script/step".
func (sc script) run(t *testing.T, k, s *side) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	k.vars, s.vars = map[string]any{}, map[string]any{}
	for i, st := range sc.steps {
		name := st.name
		if name == "" {
			name = fmt.Sprintf("%d", i)
		}
		id := sc.name + "/" + name
		kr, sr := st.both(t, id, k, s)
		if st.setup {
			for _, r := range []struct {
				side *side
				resp kmsg.Response
			}{{k, kr}, {s, sr}} {
				if code := firstError(r.resp); code != 0 {
					t.Fatalf("%s: setup failed on %s: %v\n%s", id, r.side.name, kerr.ErrorForCode(code), dump(r.resp))
				}
			}
			continue
		}
		if st.check != nil {
			if err := st.check(kr); err != nil {
				t.Errorf("%s: kafka: %v", id, err)
			}
			if err := st.check(sr); err != nil {
				t.Errorf("%s: spool: %v", id, err)
			}
		}
		keep := st.compare
		if keep == nil {
			keep = []string{"**ErrorCode", "ErrorCode"}
		}
		if d := diff(kr, sr, keep, st.ignore); len(d) > 0 {
			out[id] = d
		}
	}
	return out
}

// both sends the step to each server; a settling step is re-sent until
// the answers agree or its time is up.
func (st step) both(t *testing.T, id string, k, s *side) (kmsg.Response, kmsg.Response) {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		kr, err := st.send(k)
		if err != nil {
			t.Fatalf("%s: kafka: %v", id, err)
		}
		sr, err := st.send(s)
		if err != nil {
			t.Fatalf("%s: spool: %v", id, err)
		}
		keep := st.compare
		if keep == nil {
			keep = []string{"**ErrorCode", "ErrorCode"}
		}
		if !st.settle || len(diff(kr, sr, keep, st.ignore)) == 0 || time.Now().After(deadline) {
			return kr, sr
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// send builds the request for one side, sends it at the step's version
// and saves what the step wants; setup and wait steps are retried while
// the answer carries a retriable error.
func (st step) send(sd *side) (kmsg.Response, error) {
	deadline := time.Now().Add(stepTimeout)
	for {
		req := st.req(sd)
		ver, err := st.pick(sd, req.Key())
		if err != nil {
			return nil, err
		}
		req.SetVersion(ver)
		resp, err := sd.conn.do(req, stepTimeout)
		if err != nil {
			return nil, err
		}
		if (st.setup || st.wait) && retriable(resp) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if st.save != nil && resp != nil {
			st.save(sd, resp)
		}
		return resp, nil
	}
}

func (st step) pick(sd *side, key int16) (int16, error) {
	if st.version != nil {
		return *st.version, nil
	}
	r := sd.versions[key]
	if r == nil {
		return 0, fmt.Errorf("%s does not serve %s", sd.name, kmsg.NameForKey(key))
	}
	return r.max, nil
}

// errorCodes lists every ErrorCode in a response.
func errorCodes(resp kmsg.Response) []int16 {
	var out []int16
	for p, v := range flatten(resp) {
		if strings.HasSuffix(p, "ErrorCode") && v != "0" {
			var n int16
			fmt.Sscan(v, &n)
			out = append(out, n)
		}
	}
	return out
}

func firstError(resp kmsg.Response) int16 {
	if resp == nil {
		return 0
	}
	codes := errorCodes(resp)
	if len(codes) == 0 {
		return 0
	}
	return codes[0]
}

func retriable(resp kmsg.Response) bool {
	if resp == nil {
		return false
	}
	for _, c := range errorCodes(resp) {
		// Clients retry these too, though Kafka does not mark them so.
		if c == kerr.ConcurrentTransactions.Code || kerr.IsRetriable(kerr.ErrorForCode(c)) {
			return true
		}
	}
	return false
}

func dump(resp kmsg.Response) string {
	var b strings.Builder
	for p, v := range flatten(resp) {
		fmt.Fprintf(&b, "  %s = %s\n", p, v)
	}
	return b.String()
}
