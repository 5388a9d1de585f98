package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// A row is one figure of the performance table: spool's value, each peer's
// value on the same workload in the same run, and the machine's own limit
// for it where one applies.
type row struct {
	Section  string             `json:"section"`
	Workload string             `json:"workload"`
	Unit     string             `json:"unit"`
	Spool    float64            `json:"spool"`
	Peers    map[string]float64 `json:"peers,omitempty"` // peer name -> value
	// Lower is true where less is better (latency, time, CPU, memory).
	Lower bool `json:"lower_is_better,omitempty"`
	// Limit is the machine's bound for this figure, in Unit (0: none).
	Limit     float64 `json:"limit,omitempty"`
	LimitName string  `json:"limit_name,omitempty"`
	// Text replaces Spool's number in the table (latency triples).
	Text      string            `json:"text,omitempty"`
	PeerTexts map[string]string `json:"peer_texts,omitempty"`
	// Note says how the figure was obtained where the workload name cannot.
	Note string `json:"note,omitempty"`
}

// peerOrder is the column order of the peers.
var peerOrder = []string{"kafka", "kfake", "kfake-disk"}

// ratio is how many times better spool is than the peer (>1: spool better),
// whichever direction "better" is for the figure; 0 when unknown.
func (r row) ratio(peer string) float64 {
	p, ok := r.Peers[peer]
	if !ok || p == 0 || r.Spool == 0 {
		return 0
	}
	if r.Lower {
		return p / r.Spool
	}
	return r.Spool / p
}

// results collects rows from every benchmark of the run; TestMain prints
// them once all have run.
type results struct {
	mu      sync.Mutex
	rows    []row
	targets []target
	notes   []string
}

var table = &results{}

func (t *results) add(r row) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rows = append(t.rows, r)
	b, _ := json.Marshal(r)
	// One machine-readable line per row, as it is measured.
	fmt.Printf("bench-row %s\n", b)
}

func (t *results) note(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.notes = append(t.notes, fmt.Sprintf(format, args...))
}

// A target is one of the goals the figures are judged against.
type target struct {
	Name   string `json:"target"`
	Figure string `json:"figure"`
	Met    bool   `json:"met"`
}

func (t *results) target(name, figure string, met bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.targets = append(t.targets, target{name, figure, met})
	b, _ := json.Marshal(t.targets[len(t.targets)-1])
	fmt.Printf("bench-target %s\n", b)
}

func (t *results) find(section, workload string) (row, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range t.rows {
		if r.Section == section && r.Workload == workload {
			return r, true
		}
	}
	return row{}, false
}

// num renders a figure with three significant digits.
func num(v float64) string {
	switch {
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	case math.Abs(v) >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

// markdown renders the table: one section per heading, in the order the
// sections were first measured.
func (t *results) markdown(w io.Writer, m machine) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(w, "Machine: %s.\n\n", m.describe())
	fmt.Fprintf(w, "Limits measured in the same run: data disk %s MB/s sequential writes of 1 MiB each followed by fdatasync; loopback TCP %s MB/s, one stream.\n\n",
		num(m.DiskMBps), num(m.LoopbackMBps))
	if len(t.targets) > 0 {
		fmt.Fprintln(w, "**Targets**")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| target | figure | met |")
		fmt.Fprintln(w, "|---|---|---|")
		for _, tg := range t.targets {
			met := "no"
			if tg.Met {
				met = "yes"
			}
			fmt.Fprintf(w, "| %s | %s | %s |\n", tg.Name, tg.Figure, met)
		}
		fmt.Fprintln(w)
	}
	var sections []string
	seen := map[string]bool{}
	for _, r := range t.rows {
		if !seen[r.Section] {
			seen[r.Section] = true
			sections = append(sections, r.Section)
		}
	}
	for _, s := range sections {
		fmt.Fprintf(w, "**%s**\n\n", s)
		fmt.Fprintln(w, "| workload | unit | spool | kafka | × kafka | kfake | × kfake | kfake-disk | × kfake-disk | limit | % of limit |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|")
		for _, r := range t.rows {
			if r.Section != s {
				continue
			}
			cells := []string{r.Workload, r.Unit, r.text()}
			for _, p := range peerOrder {
				v, ok := r.Peers[p]
				switch {
				case !ok:
					cells = append(cells, "—", "—")
				case r.PeerTexts[p] != "":
					cells = append(cells, r.PeerTexts[p], ratioText(r.ratio(p)))
				default:
					cells = append(cells, num(v), ratioText(r.ratio(p)))
				}
			}
			if r.Limit > 0 {
				cells = append(cells, num(r.Limit)+" ("+r.LimitName+")", fmt.Sprintf("%.0f%%", 100*r.Spool/r.Limit))
			} else {
				cells = append(cells, "—", "—")
			}
			fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
		}
		fmt.Fprintln(w)
	}
	notes := append([]string(nil), t.notes...)
	sort.Strings(notes)
	for _, n := range notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
}

func (r row) text() string {
	if r.Text != "" {
		return r.Text
	}
	return num(r.Spool)
}

func ratioText(v float64) string {
	if v == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", v)
}

// updateReadme replaces what lies between the section's markers in
// docs/PERFORMANCE.md (README.md keeps only the headline ratios).
func updateReadme(section, body string) error {
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), "..", "..", "docs", "PERFORMANCE.md")
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	start, end := "<!-- "+section+":start -->", "<!-- "+section+":end -->"
	s := string(raw)
	i, j := strings.Index(s, start), strings.Index(s, end)
	if i < 0 || j < i {
		return fmt.Errorf("docs/PERFORMANCE.md has no %s ... %s section", start, end)
	}
	out := s[:i+len(start)] + "\n" + body + s[j:]
	return os.WriteFile(path, []byte(out), 0o644)
}
