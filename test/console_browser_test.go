package test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// consoleArtifacts is where the page test saves its screenshots:
// $SPOOL_ARTIFACTS/console, or test/artifacts/console.
func consoleArtifacts(t *testing.T) string {
	dir := os.Getenv("SPOOL_ARTIFACTS")
	if dir == "" {
		dir = "artifacts"
	}
	dir = filepath.Join(dir, "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// chromium runs headless Chromium on url with args and returns its
// output and what the page logged to the console (script errors, CSP
// refusals); the page never logs otherwise.
func chromium(t *testing.T, bin, url string, args ...string) (string, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	profile := t.TempDir()
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=8000"}, args...)
	cmd := exec.CommandContext(ctx, bin, append(all, url)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", url, err, stderr.String())
	}
	var logged []string
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, ":CONSOLE") {
			logged = append(logged, line)
		}
	}
	return stdout.String(), logged
}

var tags = regexp.MustCompile(`<[^>]*>`)

// Each page, loaded in headless Chromium at 1280x800, shows the facts
// kadm reports about the scene, with no script error; the overview is
// also drawn at a phone's size. Screenshots are saved as artifacts.
func TestConsolePagesInChromium(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed; run `make clients`")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	s := newConsoleScene(t, ctx)
	m, err := s.adm.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lags, err := s.adm.Lag(ctx, sceneGroup)
	if err != nil {
		t.Fatal(err)
	}
	lag := lags[sceneGroup]
	ends, err := s.adm.ListEndOffsets(ctx, sceneTopic)
	if err != nil {
		t.Fatal(err)
	}
	end2, _ := ends.Lookup(sceneTopic, 2)
	alice := "alice"
	if _, err := s.adm.AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{{Entity: kadm.ClientQuotaEntity{{Type: "user", Name: &alice}},
		Ops: []kadm.AlterClientQuotaOp{{Key: "producer_byte_rate", Value: 1048576}}}}); err != nil {
		t.Fatal(err)
	}
	out := consoleArtifacts(t)
	pages := []struct {
		name, hash string
		facts      []string
	}{
		{"overview", "#/", []string{m.Cluster, "healthy", fmt.Sprintf("PLAINTEXT 127.0.0.1:%d", m.Brokers[0].Port), "Controller quorum", "leader"}},
		{"topics", "#/topics", []string{sceneTopic, "empty", fmt.Sprintf("2 of %d topics", len(m.Topics))}},
		{"topic", "#/topics/" + sceneTopic, []string{"Topic " + sceneTopic, "retention.ms", "3600000", "DYNAMIC_TOPIC_CONFIG",
			fmt.Sprintf("high watermark %d", scenePerPar), `"tags": [`, fmt.Sprintf("k-%d", scenePerPar-1), "console-test", fmt.Sprint(end2.Offset)}},
		{"groups", "#/groups", []string{sceneGroup, "Stable", fmt.Sprint(lag.Lag.Total())}},
		{"group", "#/groups/" + sceneGroup, []string{"Group " + sceneGroup, lag.Members[0].MemberID, sceneTopic + " [0,1,2]", "Total lag over time"}},
		{"transactions", "#/transactions", []string{sceneTxnID, "Ongoing", sceneTopic + " [1]", "Open transactions on partitions", sceneTopic + "-1"}},
		{"security", "#/security", []string{"No authorizer is configured", "Client quotas", "alice", "producer_byte_rate=1048576"}},
	}
	for _, p := range pages {
		url := s.base + "/" + p.hash
		dom, logged := chromium(t, bin, url, "--window-size=1280,800", "--dump-dom")
		if len(logged) > 0 {
			t.Errorf("%s: the page logged:\n%s", p.name, strings.Join(logged, "\n"))
		}
		text := strings.Join(strings.Fields(tags.ReplaceAllString(dom, " ")), " ")
		text = strings.NewReplacer("&quot;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(text)
		for _, f := range p.facts {
			if !strings.Contains(text, f) {
				t.Errorf("%s page does not show %q:\n%.3000s", p.name, f, text)
			}
		}
		if strings.Contains(text, "Loading…") {
			t.Errorf("%s page never rendered", p.name)
		}
		chromium(t, bin, url, "--window-size=1280,800", "--hide-scrollbars", "--screenshot="+filepath.Join(out, p.name+".png"))
	}
	phone := filepath.Join(out, "overview-phone.png")
	chromium(t, bin, s.base+"/#/", "--window-size=390,844", "--hide-scrollbars", "--screenshot="+phone)
	for _, p := range append(pages, struct {
		name, hash string
		facts      []string
	}{name: "overview-phone"}) {
		path := filepath.Join(out, p.name+".png")
		if st, err := os.Stat(path); err != nil || st.Size() < 5000 {
			t.Errorf("screenshot %s missing or blank: %v", path, err)
		}
	}
	t.Logf("screenshots in %s", out)
}
