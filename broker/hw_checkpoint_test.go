package broker

import (
	"os"
	"path/filepath"
	"testing"
)

// The checkpoint round-trips in Kafka's text format, and a torn or
// malformed file is an error, never a silent empty map.
func TestHWCheckpointFormat(t *testing.T) {
	dir := t.TempDir()
	in := map[tp]int64{{"a", 0}: 10, {"a", 1}: 0, {"b.c-d", 7}: 1 << 40}
	if err := writeHWCheckpoint(dir, in); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, hwCheckpointFile))
	want := "0\n3\na 0 10\na 1 0\nb.c-d 7 1099511627776\n"
	if string(raw) != want {
		t.Fatalf("file:\n%s\nwant:\n%s", raw, want)
	}
	out, err := readHWCheckpoint(dir)
	if err != nil || len(out) != 3 || out[tp{"b.c-d", 7}] != 1<<40 {
		t.Fatalf("read back %v, %v", out, err)
	}
	for _, bad := range []string{"0\n2\na 0 10\n", "1\n0\n", "0\n1\na x 1\n", "0\n1\na 0 -1\n", "0\n"} {
		os.WriteFile(filepath.Join(dir, hwCheckpointFile), []byte(bad), 0o644)
		if _, err := readHWCheckpoint(dir); err == nil {
			t.Fatalf("accepted %q", bad)
		}
	}
	if m, err := readHWCheckpoint(t.TempDir()); err != nil || len(m) != 0 {
		t.Fatalf("missing file: %v %v", m, err)
	}
}
