package conformance

import (
	"sort"
	"strings"
	"testing"
)

// catalogue is every script, in the order they run. Each area keeps its
// scripts in its own file (catalogue_<area>_test.go); to add a case,
// append a script there. A step's name is unique within its script.
func catalogue() []script {
	var all []script
	for _, area := range [][]script{
		topicScripts(), configScripts(), groupConfigScripts(), produceScripts(), readScripts(),
		groupScripts(), consumerGroupScripts(), shareGroupScripts(), txnScripts(), miscScripts(), quotaScripts(), listingScripts(),
	} {
		all = append(all, area...)
	}
	return all
}

// TestCatalogue sends every scripted request to Apache Kafka and to Spool
// and compares the answers. A difference fails the test unless
// deviations lists it (script/step) with its reason; a listed deviation
// that no longer occurs fails too, so the list stays true.
func TestCatalogue(t *testing.T) {
	kp, sn := kafka.Get(t), spool.get(t)
	k := &side{name: "kafka", conn: &conn{addr: kp.Addr()}}
	s := &side{name: "spool", conn: &conn{addr: sn.Addr}}
	defer k.conn.close()
	defer s.conn.close()
	_, kv := apiVersions(t, kp.Addr())
	_, sv := apiVersions(t, sn.Addr)
	common := map[int16]*span{}
	for key, kr := range kv {
		if sr := sv[key]; sr != nil && sr.max >= kr.min && kr.max >= sr.min {
			common[key] = &span{max(kr.min, sr.min), min(kr.max, sr.max)}
		}
	}
	k.versions, s.versions = common, common

	scripts := catalogue()
	compared, names := 0, map[string]bool{}
	for _, sc := range scripts {
		if names[sc.name] {
			t.Fatalf("script %q twice", sc.name)
		}
		names[sc.name] = true
		for _, st := range sc.steps {
			if !st.setup {
				compared++
			}
		}
	}
	if compared < 150 {
		t.Errorf("the catalogue compares %d requests, want at least 150", compared)
	}
	t.Logf("%d scripts, %d compared requests", len(scripts), compared)

	seen := map[string]bool{}
	for _, sc := range scripts {
		t.Run(sc.name, func(t *testing.T) {
			for id, d := range sc.run(t, k, s) {
				if reason, ok := deviations[id]; ok {
					seen[id] = true
					t.Logf("known deviation %s (%s):\n  %s", id, reason, strings.Join(d, "\n  "))
					continue
				}
				t.Errorf("%s differs from Apache Kafka:\n  %s", id, strings.Join(d, "\n  "))
			}
		})
	}
	if !t.Failed() {
		var stale []string
		for id := range deviations {
			if !seen[id] {
				stale = append(stale, id)
			}
		}
		sort.Strings(stale)
		for _, id := range stale {
			t.Errorf("deviation %s no longer occurs: remove it from deviations", id)
		}
	}
}
