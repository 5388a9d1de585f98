package conformance

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// raftTransport are the controller-listener APIs of KRaft's own raft
// replication that Spool replaces by design: its controllers replicate
// __cluster_metadata with etcd raft under the private key 32001, brokers
// send requests to the controller directly rather than in an Envelope,
// and a controller is a raft member without registering. No Kafka node
// joins a Spool cluster, so these are not compared.
var raftTransport = map[int16]string{
	52: "Vote", 53: "BeginQuorumEpoch", 54: "EndQuorumEpoch", 58: "Envelope", 70: "ControllerRegistration",
}

// interNode are controller-listener APIs only brokers and controllers of
// the same cluster send (Spool's to Spool's). Spool may serve a narrower
// range than Kafka, never a version Kafka lacks; not serving one at all is
// a listed difference.
var interNode = map[int16]bool{1: true, 56: true, 59: true, 62: true, 63: true, 67: true, 73: true, 82: true}

// private are Spool's own keys above 32000, advertised v0 only.
var private = map[string]map[int16]bool{"broker": {32002: true}, "controller": {32001: true}}

type span struct{ min, max int16 }

func (s *span) String() string {
	if s == nil {
		return "-"
	}
	return fmt.Sprintf("%d-%d", s.min, s.max)
}

func parseSpan(s string) (*span, error) {
	if s == "-" {
		return nil, nil
	}
	lo, hi, ok := strings.Cut(s, "-")
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	if !ok || err1 != nil || err2 != nil || a > b {
		return nil, fmt.Errorf("bad range %q", s)
	}
	return &span{int16(a), int16(b)}, nil
}

// difference is one line of apiversions_differences.txt.
type difference struct {
	line          int
	kafka, spool  *span
	issue, reason string
}

var issueRE = regexp.MustCompile(`^#[0-9]+$`)

func loadDifferences(t *testing.T) map[string]map[int16]difference {
	f, err := os.Open("apiversions_differences.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[int16]difference{"broker": {}, "controller": {}}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) < 7 {
			t.Fatalf("apiversions_differences.txt:%d: want listener key name kafka spool #issue reason: %q", n, line)
		}
		key, err := strconv.Atoi(fs[1])
		kafka, err2 := parseSpan(fs[3])
		spool, err3 := parseSpan(fs[4])
		byListener, ok := out[fs[0]]
		if err != nil || err2 != nil || err3 != nil || !ok || !issueRE.MatchString(fs[5]) {
			t.Fatalf("apiversions_differences.txt:%d: bad line %q", n, line)
		}
		if _, dup := byListener[int16(key)]; dup {
			t.Fatalf("apiversions_differences.txt:%d: %s key %d listed twice", n, fs[0], key)
		}
		byListener[int16(key)] = difference{line: n, kafka: kafka, spool: spool, issue: fs[5], reason: strings.Join(fs[6:], " ")}
	}
	return out
}

func apiVersions(t *testing.T, addr string) (*kmsg.ApiVersionsResponse, map[int16]*span) {
	t.Helper()
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(3)
	req.ClientSoftwareName, req.ClientSoftwareVersion = "spool-conformance", "1"
	raw, err := harness.Request(addr, req, 10*time.Second)
	if err != nil {
		t.Fatalf("ApiVersions to %s: %v", addr, err)
	}
	resp := raw.(*kmsg.ApiVersionsResponse)
	if resp.ErrorCode != 0 {
		t.Fatalf("ApiVersions to %s: error %d", addr, resp.ErrorCode)
	}
	m := map[int16]*span{}
	for _, k := range resp.ApiKeys {
		m[k.ApiKey] = &span{k.MinVersion, k.MaxVersion}
	}
	return resp, m
}

// Every API key and version range of Apache Kafka 4.4's broker and
// controller listeners against Spool's: equal, or a line of
// apiversions_differences.txt naming the open issue that closes the gap.
func TestApiVersionsMatchKafka(t *testing.T) {
	k, s := kafka.Get(t), spool.get(t)
	diffs := loadDifferences(t)
	listeners := []struct{ name, kafka, spool string }{
		{"broker", k.Addr(), s.Addr},
		{"controller", k.CtrlAddrs[0], s.CtrlAddr},
	}
	for _, l := range listeners {
		_, kv := apiVersions(t, l.kafka)
		sresp, sv := apiVersions(t, l.spool)
		keys := map[int16]bool{}
		for key := range kv {
			keys[key] = true
		}
		for key := range sv {
			keys[key] = true
		}
		sorted := make([]int16, 0, len(keys))
		for key := range keys {
			sorted = append(sorted, key)
		}
		sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
		listed := diffs[l.name]
		for _, key := range sorted {
			kr, sr := kv[key], sv[key]
			name := fmt.Sprintf("%s %s (%d)", l.name, kmsg.NameForKey(key), key)
			d, isListed := listed[key]
			delete(listed, key)
			switch {
			case private[l.name][key]:
				if kr != nil || sr == nil || sr.min != 0 || sr.max != 0 {
					t.Errorf("%s: private key: kafka %v spool %v, want spool 0-0 only", name, kr, sr)
				}
			case l.name == "controller" && raftTransport[key] != "":
				if sr != nil {
					t.Errorf("%s: Spool serves KRaft's raft transport API %v", name, sr)
				}
			case l.name == "controller" && interNode[key] && sr != nil && kr != nil:
				if sr.min < kr.min || sr.max > kr.max {
					t.Errorf("%s: spool serves %v, outside kafka's %v", name, sr, kr)
				}
				if isListed {
					t.Errorf("apiversions_differences.txt:%d: %s needs no line: an inter-node API Spool serves within Kafka's range", d.line, name)
				}
			case kr.String() == sr.String():
				if isListed {
					t.Errorf("apiversions_differences.txt:%d: %s no longer differs (both %v): remove the line", d.line, name, kr)
				}
			case !isListed:
				t.Errorf("%s: kafka %v, spool %v: not in apiversions_differences.txt", name, kr, sr)
			case d.kafka.String() != kr.String() || d.spool.String() != sr.String():
				t.Errorf("apiversions_differences.txt:%d: %s says kafka %v spool %v, but they serve kafka %v spool %v", d.line, name, d.kafka, d.spool, kr, sr)
			}
		}
		for key, d := range listed {
			t.Errorf("apiversions_differences.txt:%d: %s key %d is served by neither", d.line, l.name, key)
		}
		if l.name == "broker" && (len(sresp.FinalizedFeatures) == 0 || sresp.FinalizedFeatures[0].Name != "metadata.version") {
			t.Errorf("spool's finalized features lack metadata.version: %+v", sresp.FinalizedFeatures)
		}
	}
}
