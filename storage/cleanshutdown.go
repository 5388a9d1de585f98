package storage

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// A log dir's clean-shutdown record lists the partition directories whose
// logs were closed with CloseUnmarked, and their log end offsets, in one
// file written (and fsynced) once after all of them are durable, as Kafka
// keeps one clean-shutdown file a log dir. A broker with 100,000 partitions
// then stops with one marker write instead of 100,000, each of which cost
// four fsyncs. Only listed directories count as clean: a directory the
// broker did not have open (or whose close failed) is recovered as before.
//
// Format, in the style of Kafka's checkpoint files: a version line (0),
// the number of entries, then "<partition dir> <log end offset>" lines.
// A torn or damaged file is treated as absent: everything is recovered.
const dirCleanShutdownFile = "clean-shutdown"

// WriteCleanShutdown records, durably, that the logs in logDir named by
// ends (partition directory name -> log end offset) were closed cleanly.
func WriteCleanShutdown(logDir string, ends map[string]int64) error {
	names := make([]string, 0, len(ends))
	for n := range ends {
		names = append(names, n)
	}
	slices.Sort(names)
	var b bytes.Buffer
	b.Grow(32 * (len(names) + 2))
	fmt.Fprintf(&b, "0\n%d\n", len(names))
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(' ')
		b.WriteString(strconv.FormatInt(ends[n], 10))
		b.WriteByte('\n')
	}
	return writeFileAtomic(logDir, dirCleanShutdownFile, b.Bytes())
}

// TakeCleanShutdown reads logDir's clean-shutdown record and removes it
// durably before returning, so that a crash of the run about to start is
// never taken for a clean shutdown. A missing or damaged record gives an
// empty map.
func TakeCleanShutdown(logDir string) (map[string]int64, error) {
	path := filepath.Join(logDir, dirCleanShutdownFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]int64{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	ends := parseCleanShutdown(raw)
	if _, err := removeMarker(logDir, dirCleanShutdownFile); err != nil {
		return nil, err
	}
	return ends, nil
}

func parseCleanShutdown(raw []byte) map[string]int64 {
	ends := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if sc.Err() != nil || len(lines) < 2 || lines[0] != "0" {
		return map[string]int64{}
	}
	n, err := strconv.Atoi(lines[1])
	if err != nil || n != len(lines)-2 {
		return map[string]int64{}
	}
	for _, line := range lines[2:] {
		name, off, ok := strings.Cut(line, " ")
		o, err := strconv.ParseInt(off, 10, 64)
		if !ok || err != nil || o < 0 || name == "" || strings.ContainsRune(name, '/') {
			return map[string]int64{}
		}
		ends[name] = o
	}
	return ends
}
