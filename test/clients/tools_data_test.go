package clients_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

var toolConsole = &check{
	name:    "kafka-console",
	family:  "Kafka tools",
	what:    "kafka-console-producer writes keyed records with headers, gzip-compressed and acks=all; kafka-console-consumer reads them back read_committed with partitions, offsets, headers and keys",
	timeout: 2 * time.Minute,
	run:     runToolConsole,
}

const consoleRecords = 50

func runToolConsole(ctx context.Context, k *checkCell) error {
	t, bs := k.prefix, k.bootstrap()
	if err := k.d.oracle.createTopic(ctx, t, 3, k.d.rf, nil); err != nil {
		return err
	}
	var in strings.Builder
	want := map[string]string{} // key -> header value and value
	for i := range consoleRecords {
		fmt.Fprintf(&in, "trace:id-%d\tk%02d\tvalue-%d\n", i, i, i)
		want[fmt.Sprintf("k%02d", i)] = fmt.Sprintf("trace:id-%d|value-%d", i, i)
	}
	if _, err := k.tool(ctx, in.String(), "kafka-console-producer", "--bootstrap-server", bs, "--topic", t,
		"--compression-codec", "gzip", "--request-required-acks", "-1",
		"--reader-property", "parse.key=true", "--reader-property", "parse.headers=true"); err != nil {
		return err
	}
	st, err := k.d.oracle.read(ctx, t)
	if err != nil {
		return err
	}
	got := map[string]string{}
	for _, s := range st {
		if len(s.Headers) != 1 {
			return fmt.Errorf("oracle: record %q has %d headers, want 1", s.Key, len(s.Headers))
		}
		if s.codec != codecIDs["gzip"] {
			return fmt.Errorf("oracle: record %q stored with codec %d, want gzip", s.Key, s.codec)
		}
		got[string(s.Key)] = fmt.Sprintf("%s:%s|%s", s.Headers[0].Key, s.Headers[0].Value, s.Value)
	}
	if err := sameMap(want, got); err != nil {
		return fmt.Errorf("oracle read of what kafka-console-producer wrote: %w", err)
	}
	out, err := k.tool(ctx, "", "kafka-console-consumer", "--bootstrap-server", bs, "--topic", t,
		"--from-beginning", "--max-messages", strconv.Itoa(consoleRecords), "--timeout-ms", "30000",
		"--isolation-level", "read_committed",
		"--formatter-property", "print.partition=true", "--formatter-property", "print.offset=true",
		"--formatter-property", "print.headers=true", "--formatter-property", "print.key=true")
	if err != nil {
		return err
	}
	return checkConsoleOutput(out, st, want)
}

// checkConsoleOutput: one line per record, "Partition:P\tOffset:O\theaders\tkey\tvalue",
// each where the oracle found it.
func checkConsoleOutput(out string, st []stored, want map[string]string) error {
	where := map[string]string{}
	for _, s := range st {
		where[string(s.Key)] = fmt.Sprintf("Partition:%d Offset:%d", s.Partition, s.Offset)
	}
	got := map[string]string{}
	line := regexp.MustCompile(`^Partition:(\d+)\tOffset:(\d+)\t(\S+)\t(\S+)\t(\S+)$`)
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			return fmt.Errorf("kafka-console-consumer printed %q", l)
		}
		if w := where[m[4]]; w != fmt.Sprintf("Partition:%s Offset:%s", m[1], m[2]) {
			return fmt.Errorf("kafka-console-consumer read %s at Partition:%s Offset:%s, the oracle at %s", m[4], m[1], m[2], w)
		}
		got[m[4]] = m[3] + "|" + m[5]
	}
	if err := sameMap(want, got); err != nil {
		return fmt.Errorf("kafka-console-consumer: %w", err)
	}
	return nil
}

func sameMap(want, got map[string]string) error {
	for key, w := range want {
		if g, ok := got[key]; !ok {
			return fmt.Errorf("record %s is missing", key)
		} else if g != w {
			return fmt.Errorf("record %s is %q, want %q", key, g, w)
		}
	}
	if len(got) != len(want) {
		return fmt.Errorf("%d records, want %d", len(got), len(want))
	}
	return nil
}

var toolOffsets = &check{
	name:    "kafka-get-offsets",
	family:  "Kafka tools",
	what:    "kafka-get-offsets for the latest, earliest and max-timestamp offsets and by timestamp; kafka-delete-records moves the log start, which kafka-get-offsets then reports",
	timeout: 2 * time.Minute,
	run:     runToolOffsets,
}

func runToolOffsets(ctx context.Context, k *checkCell) error {
	t, bs := k.prefix, k.bootstrap()
	if err := k.d.oracle.createTopic(ctx, t, 3, k.d.rf, nil); err != nil {
		return err
	}
	t0 := time.Now().Add(-10*time.Minute).UnixMilli() / 1000 * 1000
	if _, err := k.d.oracle.produce(ctx, t, timedRecords(t0)); err != nil {
		return err
	}
	offsets := func(time string) (string, error) {
		out, err := k.tool(ctx, "", "kafka-get-offsets", "--bootstrap-server", bs, "--topic", t, "--time", time)
		return strings.Join(sortedLines(out), " "), err
	}
	for _, c := range []struct{ time, want string }{
		{"-1", t + ":0:10 " + t + ":1:0 " + t + ":2:0"},
		{"-2", t + ":0:0 " + t + ":1:0 " + t + ":2:0"},
		{"-3", t + ":0:9"}, // max-timestamp; empty partitions have none
		{strconv.FormatInt(t0+2500, 10), t + ":0:3"},
	} {
		got, err := offsets(c.time)
		if err != nil {
			return err
		}
		if got != c.want {
			return fmt.Errorf("kafka-get-offsets --time %s printed %q, want %q", c.time, got, c.want)
		}
	}
	spec := filepath.Join(k.dir, "delete.json")
	if err := os.WriteFile(spec, fmt.Appendf(nil, `{"version":1,"partitions":[{"topic":%q,"partition":0,"offset":4}]}`, t), 0o644); err != nil {
		return err
	}
	out, err := k.tool(ctx, "", "kafka-delete-records", "--bootstrap-server", bs, "--offset-json-file", spec)
	if err != nil {
		return err
	}
	if err := expect("kafka-delete-records", out, `partition: `+t+`-0\s+low_watermark: 4`); err != nil {
		return err
	}
	got, err := offsets("-2")
	if err != nil {
		return err
	}
	if want := t + ":0:4 " + t + ":1:0 " + t + ":2:0"; got != want {
		return fmt.Errorf("after kafka-delete-records, kafka-get-offsets --time -2 printed %q, want %q", got, want)
	}
	return nil
}

func sortedLines(s string) []string {
	lines := strings.Fields(s)
	sort.Strings(lines)
	return lines
}
