//go:build linux

package main

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"

	"go.uber.org/zap"

	"spool/protocol"
)

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
	}
	return string(body)
}

func TestDebugListenerServesCountersAndProfiles(t *testing.T) {
	ln, err := listenDebug("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n := &node{brkServer: &protocol.Server{Stats: new(protocol.Stats)}}
	n.brkServer.Stats.SendfileBytes.Add(4096)
	n.brkServer.Stats.CopiedBytes.Add(17)
	n.brkServer.Stats.ConnectionsRejected.Add(3)
	stop := serveDebug(ln, n, zap.NewNop())
	defer stop()
	base := "http://" + ln.Addr().String()

	metrics := get(t, base+"/metrics")
	for _, want := range []string{
		`spool_response_bytes_total{path="sendfile",server="broker"} 4096`,
		`spool_response_bytes_total{path="copied",server="broker"} 17`,
		"# TYPE spool_response_bytes_total counter",
		`spool_connection_events_total{event="rejected",server="broker"} 3`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, metrics)
		}
	}

	var vars struct {
		PID    int              `json:"pid"`
		Broker map[string]int64 `json:"broker_response_bytes"`
	}
	if err := json.Unmarshal([]byte(get(t, base+"/debug/vars")), &vars); err != nil {
		t.Fatal(err)
	}
	if vars.PID != os.Getpid() || vars.Broker["sendfile"] != 4096 || vars.Broker["copied"] != 17 {
		t.Errorf("/debug/vars: %+v", vars)
	}
	if idx := get(t, base+"/debug/pprof/"); !strings.Contains(idx, "goroutine") {
		t.Errorf("/debug/pprof/ lists no profiles:\n%s", idx)
	}
	if prof := get(t, base+"/debug/pprof/goroutine?debug=1"); !strings.Contains(prof, "goroutine profile") {
		t.Errorf("goroutine profile:\n%s", prof)
	}
}

func TestDebugListenerIsOffByDefault(t *testing.T) {
	ln, err := listenDebug("")
	if ln != nil || err != nil {
		t.Fatalf("listenDebug(\"\") = %v, %v; want nothing", ln, err)
	}
	serveDebug(nil, &node{}, zap.NewNop())() // a no-op, not a panic
}

func TestDebugListenerPortInUseIsAUsageError(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, err = listenDebug(busy.Addr().String())
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), "--debug-listener") {
		t.Fatalf("got %v; want exit status 2 naming --debug-listener", err)
	}
}
