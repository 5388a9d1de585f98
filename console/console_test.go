package console

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"spool/security"
)

// assetRef finds the URLs index.html loads: src and href attributes.
var assetRef = regexp.MustCompile(`(?i)\b(?:src|href)\s*=\s*"([^"]*)"`)

// externalURL finds any absolute or protocol-relative http(s) URL.
var externalURL = regexp.MustCompile(`(?i)(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}|https?://`)

// The page loads only what the binary embeds: every src/href of
// index.html is a relative path (or a fragment, or data:) that the console
// serves, and no file mentions a URL of another site (CDNs, web fonts).
func TestPagesReferenceOnlyEmbeddedAssets(t *testing.T) {
	c := New(Sources{}, zap.NewNop())
	srv := httptest.NewServer(c)
	defer srv.Close()
	index := get(t, srv.URL+"/", "text/html")
	refs := assetRef.FindAllStringSubmatch(index, -1)
	if len(refs) < 2 {
		t.Fatalf("index.html references %d assets; want at least the script and the stylesheet", len(refs))
	}
	for _, m := range refs {
		ref := m[1]
		switch {
		case strings.HasPrefix(ref, "#"), ref == "data:,":
			continue
		case strings.Contains(ref, ":") || strings.HasPrefix(ref, "//"):
			t.Errorf("index.html loads %q, which is not an embedded asset", ref)
			continue
		}
		get(t, srv.URL+"/"+ref, "")
	}
	if err := fs.WalkDir(ui, "ui", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := ui.ReadFile(path)
		if m := externalURL.Find(b); m != nil {
			t.Errorf("%s mentions %q: the console must work with no network but the node's", path, m)
		}
		if bytes.Contains(b, []byte("@import")) || bytes.Contains(b, []byte("@font-face")) {
			t.Errorf("%s imports stylesheets or fonts", path)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// The budget: the embedded assets stay under 500 KB gzipped.
func TestAssetsAreSmall(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	fs.WalkDir(ui, "ui", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := ui.ReadFile(path)
			zw.Write(b)
		}
		return err
	})
	zw.Close()
	if buf.Len() > 500<<10 {
		t.Fatalf("embedded assets are %d bytes gzipped; the budget is 500 KB", buf.Len())
	}
}

func get(t *testing.T, url, wantType string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if wantType != "" && !strings.HasPrefix(resp.Header.Get("Content-Type"), wantType) {
		t.Fatalf("GET %s: Content-Type %q, want %s", url, resp.Header.Get("Content-Type"), wantType)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Fatalf("GET %s: Content-Security-Policy %q does not confine the page to its origin", url, csp)
	}
	return string(b)
}

// Without a broker the Kafka-backed endpoints say so (503), unknown
// endpoints are 404 JSON, and nothing panics.
func TestEndpointsWithoutBroker(t *testing.T) {
	c := New(Sources{ClusterID: "abc", NodeID: 3}, zap.NewNop())
	srv := httptest.NewServer(c)
	defer srv.Close()
	for path, want := range map[string]int{
		"/v1/cluster": 200, "/v1/topics": 200, "/v1/quotas": 200, "/v1/groups": 503, "/v1/transactions": 503,
		"/v1/acls": 503, "/v1/throughput": 503, "/v1/topics/x": 404, "/v1/topics/x/partitions/0/records": 404, "/v1/nothing": 404,
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("GET %s: %d %s %s; want %d JSON", path, resp.StatusCode, resp.Header.Get("Content-Type"), b, want)
		}
	}
}

func TestShow(t *testing.T) {
	for _, c := range []struct {
		in        []byte
		enc, text string
		truncated bool
	}{
		{[]byte(`{"a":1,"b":[true]}`), "json", "{\n  \"a\": 1,\n  \"b\": [\n    true\n  ]\n}", false},
		{[]byte(`42`), "text", "42", false},
		{[]byte("héllo\tworld"), "text", "héllo\tworld", false},
		{[]byte{0, 1, 0xff}, "hex", "0001ff", false},
		{[]byte("a\x00b"), "hex", "610062", false},
		{bytes.Repeat([]byte{0xfe}, maxFieldBytes), "hex", strings.Repeat("fe", maxFieldBytes/2), true},
		{[]byte(strings.Repeat("é", maxFieldBytes)), "text", strings.Repeat("é", maxFieldBytes/2), true},
	} {
		got := show(c.in)
		if got.Encoding != c.enc || got.Text != c.text || got.Truncated != c.truncated || got.Size != len(c.in) {
			t.Errorf("show(%.20q) = %s %.40q truncated=%v size=%d; want %s %.40q truncated=%v", c.in, got.Encoding, got.Text, got.Truncated, got.Size, c.enc, c.text, c.truncated)
		}
	}
}

// The meter reads the totals at most once per interval, however many
// pages ask, and keeps a bounded history.
func TestMeterReadsOnDemand(t *testing.T) {
	now := time.Unix(1000, 0)
	reads := 0
	m := newMeter(func() Traffic { reads++; return Traffic{BytesIn: int64(reads)} }, func() time.Time { return now })
	m.samples()
	m.samples()
	if reads != 1 {
		t.Fatalf("two asks within the interval read %d times; want 1", reads)
	}
	for i := 0; i < meterKeep+10; i++ {
		now = now.Add(meterInterval)
		m.samples()
	}
	s := m.samples()
	if len(s) != meterKeep || s[len(s)-1].BytesIn != int64(reads) {
		t.Fatalf("kept %d samples, last %+v; want %d ending with read %d", len(s), s[len(s)-1], meterKeep, reads)
	}
}

func TestParseBrowse(t *testing.T) {
	for q, ok := range map[string]bool{
		"": true, "offset=5&limit=100": true, "offset=earliest": true, "timestamp=1700000000000": true,
		"limit=0": false, "limit=101": false, "offset=-1": false, "offset=x": false, "timestamp=-5": false,
	} {
		r := httptest.NewRequest("GET", "/v1/topics/t/partitions/0/records?"+q, nil)
		if _, err := parseBrowse(r); (err == nil) != ok {
			t.Errorf("parseBrowse(%q) err = %v; want ok=%v", q, err, ok)
		}
	}
}

// Hostile or malformed requests get a 4xx or 503 answer in JSON, never a
// 500 or a panic.
func TestHostileRequests(t *testing.T) {
	c := New(Sources{ReadOnly: false}, zap.NewNop())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.ServeHTTP(w, r.WithContext(security.ContextWithPrincipal(r.Context(), security.Anonymous)))
	}))
	defer srv.Close()
	for _, req := range []struct{ method, path, body string }{
		{"GET", "/v1/topics/%00/partitions/0/records", ""},
		{"GET", "/v1/topics/t/partitions/99999999999999999999/records", ""},
		{"GET", "/v1/topics/t/partitions/-1/producers", ""},
		{"GET", "/v1/groups/" + strings.Repeat("g", 5000), ""},
		{"POST", "/v1/topics", "{"},
		{"POST", "/v1/topics", `{"name": ""}`},
		{"POST", "/v1/topics", `{"name": "x", "partitions": "many"}`},
		{"POST", "/v1/topics", strings.Repeat(" ", maxWriteBody+10) + `{"name":"x"}`},
		{"PUT", "/v1/topics/t/configs", `{}`},
		{"POST", "/v1/topics/t/partitions/0/delete-records", `{"before_offset": -5}`},
		{"POST", "/v1/groups/g/offsets", `{"topic": "t", "to": "sideways"}`},
		{"DELETE", "/v1/topics/t", ""},
	} {
		r, _ := http.NewRequest(req.method, srv.URL+req.path, strings.NewReader(req.body))
		r.Header.Set(writeHeader, "spool-console")
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatalf("%s %s: %v", req.method, req.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable || resp.StatusCode < 400 {
			t.Errorf("%s %.60s: %d %s; want a 4xx or 503", req.method, req.path, resp.StatusCode, b)
		}
	}
}

// The lag history keeps readings at least lagMinInterval apart, at most
// lagKeepSamples per group and lagKeepGroups groups, dropping the group
// looked at longest ago; unknown lag (-1) is not a reading.
func TestLagHistory(t *testing.T) {
	h := newLagHistory()
	now := time.Unix(1000, 0)
	h.record("g", now, 5)
	if got := h.record("g", now.Add(time.Second), 6); len(got) != 1 || got[0][1] != 5 {
		t.Fatalf("a reading a second later was kept: %v", got)
	}
	if got := h.record("g", now.Add(lagMinInterval), -1); len(got) != 1 {
		t.Fatalf("an unknown lag was kept: %v", got)
	}
	for i := 1; i <= lagKeepSamples+5; i++ {
		h.record("g", now.Add(time.Duration(i)*lagMinInterval), int64(i))
	}
	got := h.record("g", now.Add(time.Hour*10), 99)
	if len(got) != lagKeepSamples || got[len(got)-1][1] != 99 {
		t.Fatalf("kept %d samples ending %v; want %d ending with 99", len(got), got[len(got)-1], lagKeepSamples)
	}
	for i := 0; i < lagKeepGroups; i++ {
		h.record(fmt.Sprint("other-", i), now.Add(time.Hour*11+time.Duration(i)), 1)
	}
	if len(h.groups) != lagKeepGroups || h.groups["g"] != nil {
		t.Fatalf("%d groups kept, g kept: %v; want %d with g (looked at longest ago) dropped", len(h.groups), h.groups["g"] != nil, lagKeepGroups)
	}
}

// Without HTTP authentication a change is accepted only at a Host that
// names the node: a DNS name rebound to its address by another site's
// page is refused before anything else is looked at.
func TestChangesRefuseForeignHostWithoutAuthentication(t *testing.T) {
	c := New(Sources{Unauthenticated: true, KnownHosts: []string{"node1.internal"}}, zap.NewNop())
	for host, want := range map[string]int{
		"evil.example:9644":   http.StatusForbidden,
		"node1.evil.example":  http.StatusForbidden,
		"127.0.0.1:9644":      http.StatusBadRequest,
		"[::1]:9644":          http.StatusBadRequest,
		"localhost:9644":      http.StatusBadRequest,
		"NODE1.internal.:80":  http.StatusBadRequest,
		"node1.internal:9644": http.StatusBadRequest,
	} {
		r := httptest.NewRequest("POST", "/v1/topics", strings.NewReader(`{"name": ""}`))
		r.Host = host
		r.Header.Set(writeHeader, "spool-console")
		r = r.WithContext(security.ContextWithPrincipal(r.Context(), security.Anonymous))
		w := httptest.NewRecorder()
		c.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("Host %s: %d %s; want %d", host, w.Code, w.Body, want)
		}
	}
}
