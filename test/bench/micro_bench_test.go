package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

const sectionAllocs = "Allocations on the data path (Go benchmarks, -benchmem)"

// microBench is one Go benchmark of the data path and how many records one
// of its operations handles.
type microBench struct {
	pkg, name string
	records   func(sub string) float64 // records per op, from the sub-benchmark name
	what      string
}

var subNumber = regexp.MustCompile(`=(\d+)`)

func fromSub(perUnit float64) func(string) float64 {
	return func(sub string) float64 {
		m := subNumber.FindStringSubmatch(sub)
		if m == nil {
			return 0
		}
		n, _ := strconv.ParseFloat(m[1], 64)
		return n * perUnit
	}
}

var microBenches = []microBench{
	{"./broker/", "BenchmarkProduceAppend", fromSub(1), "produce handler: validate and append one batch of N 1 KiB records"},
	{"./broker/", "BenchmarkFetchEncode", fromSub(10), "fetch handler: build a response over N batches of 10 records"},
	{"./protocol/", "BenchmarkTLSRegionSend", fromSub(1), "fetch over TLS: send a region of N 1 KiB records (copied and encrypted, no sendfile)"},
	{"./storage/", "BenchmarkAppend", func(string) float64 { return 16 }, "log append: one batch of 16 1 KiB records"},
}

// BenchmarkMicro runs the data path's Go benchmarks with -benchmem in a
// child `go test` and adds their allocations per record to the table.
func BenchmarkMicro(b *testing.B) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	met := true
	var figures []string
	for _, mb := range microBenches {
		cmd := exec.Command("go", "test", "-run", "^$", "-bench", "^"+mb.name+"$", "-benchmem", "-benchtime", "1s", "-count", "1", mb.pkg)
		cmd.Dir = root
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("%s %s: %v\n%s", mb.pkg, mb.name, err, out)
		}
		var first, last float64 = -1, -1
		for _, line := range strings.Split(string(out), "\n") {
			if !strings.HasPrefix(line, mb.name) {
				continue
			}
			f := strings.Fields(line)
			name := strings.TrimSuffix(f[0], "-"+strconv.Itoa(runtime.GOMAXPROCS(0)))
			allocs := metric(f, "allocs/op")
			recs := mb.records(name)
			if allocs < 0 || recs == 0 {
				continue
			}
			table.add(row{Section: sectionAllocs, Workload: fmt.Sprintf("%s (%s, %s, %.0f records/op)", mb.what, strings.TrimPrefix(name, "Benchmark"), strings.Trim(mb.pkg, "./"), recs),
				Unit: "allocs/record", Lower: true, Spool: allocs / recs})
			if first < 0 {
				first = allocs
			}
			last = allocs
			figures = append(figures, fmt.Sprintf("%s %.0f allocs/op", strings.TrimPrefix(name, "Benchmark"), allocs))
		}
		// Zero per record: the allocations of an operation must not grow
		// with the records in it.
		if first < 0 || last > first {
			met = false
		}
	}
	table.target("zero allocations per record in the produce append and fetch paths (allocations per request do not grow with records)", strings.Join(figures, "; "), met)
}

// metric finds "value unit" in a benchmark line's fields; -1 when absent.
func metric(f []string, unit string) float64 {
	for i := 1; i < len(f); i++ {
		if f[i] == unit {
			v, err := strconv.ParseFloat(f[i-1], 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}
