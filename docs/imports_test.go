// Package docs holds the test that keeps ARCHITECTURE.md's package table
// true: every package of the module has a row, and imports only the
// packages of ours that its row lists.
package docs

import (
	"bufio"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "spool"

// tableImports reads the package table of ARCHITECTURE.md: package ->
// the packages of ours it may import; nil means any ("all").
func tableImports(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open("ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := map[string][]string{}
	inTable := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "| package | owns | imports") {
			inTable = true
			continue
		}
		if !inTable || strings.HasPrefix(line, "|---") {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) < 3 {
			t.Fatalf("table row without three cells: %q", line)
		}
		name := strings.Trim(strings.TrimSpace(cells[0]), "/")
		rows[name] = parseImports(cells[len(cells)-1])
	}
	if len(rows) == 0 {
		t.Fatal("no package table (| package | owns | imports (of ours) |) in ARCHITECTURE.md")
	}
	return rows
}

// parseImports reads "record, storage (and kmsg)", "none (kmsg only)" or
// "all".
func parseImports(cell string) []string {
	if i := strings.Index(cell, "("); i >= 0 {
		cell = cell[:i]
	}
	cell = strings.TrimSpace(cell)
	switch cell {
	case "all":
		return nil
	case "none", "":
		return []string{}
	}
	var out []string
	for _, p := range strings.Split(cell, ",") {
		out = append(out, strings.TrimSpace(p))
	}
	return out
}

// moduleImports lists every non-test package of the module outside test/
// with the packages of ours it imports directly.
func moduleImports(t *testing.T) map[string][]string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list imports: %v", err)
	}
	cmd := exec.Command(gobin, "list", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", module+"/...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		name, ok := ours(fields[0])
		if !ok || name == "" || name == "docs" || name == "test" || strings.HasPrefix(name, "test/") {
			continue
		}
		deps := []string{}
		for _, imp := range fields[1:] {
			if dep, ok := ours(imp); ok {
				deps = append(deps, dep)
			}
		}
		pkgs[name] = deps
	}
	return pkgs
}

func ours(importPath string) (string, bool) {
	if importPath == module {
		return "", true
	}
	rest, ok := strings.CutPrefix(importPath, module+"/")
	return rest, ok
}

func TestImportsMatchArchitectureTable(t *testing.T) {
	table := tableImports(t)
	for pkg, deps := range moduleImports(t) {
		allowed, ok := table[pkg]
		if !ok {
			t.Errorf("package %s has no row in ARCHITECTURE.md's package table", pkg)
			continue
		}
		if allowed == nil {
			continue
		}
		for _, d := range deps {
			if !slices.Contains(allowed, d) {
				t.Errorf("%s imports %s, which its row in ARCHITECTURE.md does not list (%s)", pkg, d, strings.Join(allowed, ", "))
			}
		}
	}
}

// Nothing below broker/ imports broker: the packages under it are the
// pure parts the broker is built from.
func TestNothingBelowBrokerImportsBroker(t *testing.T) {
	for pkg, deps := range moduleImports(t) {
		if strings.HasPrefix(pkg, "broker/") && slices.Contains(deps, "broker") {
			t.Errorf("%s imports broker", pkg)
		}
	}
}
