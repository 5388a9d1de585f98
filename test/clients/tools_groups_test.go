package clients_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var toolGroups = &check{
	name:    "kafka-consumer-groups",
	family:  "Kafka tools",
	what:    "a kafka-console-consumer group's offsets: --list, --describe (offsets, lag, --state), --reset-offsets --execute (--to-earliest, --to-offset), --delete-offsets, --delete",
	timeout: 3 * time.Minute,
	run:     runToolGroups,
}

func runToolGroups(ctx context.Context, k *checkCell) error {
	t, g, bs := k.prefix, k.prefix+"-group", k.bootstrap()
	if err := k.d.oracle.createTopic(ctx, t, 3, k.d.rf, nil); err != nil {
		return err
	}
	want, err := k.d.oracle.produce(ctx, t, resumeRecords())
	if err != nil {
		return err
	}
	if _, err := k.tool(ctx, "", "kafka-console-consumer", "--bootstrap-server", bs, "--topic", t, "--group", g,
		"--from-beginning", "--max-messages", strconv.Itoa(len(want)), "--timeout-ms", "30000"); err != nil {
		return err
	}
	committed := func(want map[int32]int64) error {
		return eventually(ctx, 10*time.Second, func() error {
			got, err := k.d.oracle.committed(ctx, g, t)
			if err == nil && !maps.Equal(got, want) {
				err = fmt.Errorf("the group's committed offsets are %v, want %v", got, want)
			}
			return err
		})
	}
	if err := committed(map[int32]int64{0: 6, 1: 6, 2: 6}); err != nil {
		return fmt.Errorf("after kafka-console-consumer: %w", err)
	}
	groups := append([]string{"--bootstrap-server", bs}, "--group", g)
	out, err := k.tool(ctx, "", "kafka-consumer-groups", "--bootstrap-server", bs, "--list")
	if err != nil {
		return err
	}
	if err := expect("--list", out, `(?m)^`+g+`$`); err != nil {
		return err
	}
	out, err = k.tool(ctx, "", "kafka-consumer-groups", append(groups, "--describe")...)
	if err != nil {
		return err
	}
	for p := range 3 {
		if err := expect("--describe", out, fmt.Sprintf(`(?m)^%s\s+%s\s+%d\s+6\s+6\s+0\s`, g, t, p)); err != nil {
			return err
		}
	}
	out, err = k.tool(ctx, "", "kafka-consumer-groups", append(groups, "--describe", "--state")...)
	if err != nil {
		return err
	}
	if err := expect("--describe --state", out, `(?m)^`+g+`\s+\S+\s+\(\d+\)\s+\S+\s+Empty\s+0\s*$`); err != nil {
		return err
	}
	if _, err := k.tool(ctx, "", "kafka-consumer-groups", append(groups, "--reset-offsets", "--topic", t, "--to-earliest", "--execute")...); err != nil {
		return err
	}
	if err := committed(map[int32]int64{0: 0, 1: 0, 2: 0}); err != nil {
		return fmt.Errorf("after --reset-offsets --to-earliest --execute: %w", err)
	}
	if _, err := k.tool(ctx, "", "kafka-consumer-groups", append(groups, "--reset-offsets", "--topic", t+":1", "--to-offset", "4", "--execute")...); err != nil {
		return err
	}
	if err := committed(map[int32]int64{0: 0, 1: 4, 2: 0}); err != nil {
		return fmt.Errorf("after --reset-offsets --topic %s:1 --to-offset 4 --execute: %w", t, err)
	}
	if _, err := k.tool(ctx, "", "kafka-consumer-groups", append(groups, "--delete-offsets", "--topic", t+":2")...); err != nil {
		return err
	}
	if err := committed(map[int32]int64{0: 0, 1: 4}); err != nil {
		return fmt.Errorf("after --delete-offsets --topic %s:2: %w", t, err)
	}
	out, err = k.tool(ctx, "", "kafka-consumer-groups", append(groups, "--delete")...)
	if err != nil {
		return err
	}
	if err := expect("--delete", out, `Deletion of requested consumer groups \('`+g+`'\) was successful`); err != nil {
		return err
	}
	out, err = k.tool(ctx, "", "kafka-consumer-groups", "--bootstrap-server", bs, "--list")
	if err == nil && regexp.MustCompile(`(?m)^`+g+`$`).MatchString(out) {
		err = fmt.Errorf("--list still shows %s after --delete", g)
	}
	return err
}

var toolVerifiable = &check{
	name:    "kafka-verifiable",
	family:  "Kafka tools",
	what:    "kafka-verifiable-producer (acks=all) has every record acknowledged; kafka-verifiable-consumer reads them all in a group and every commit succeeds",
	timeout: 2 * time.Minute,
	run:     runToolVerifiable,
}

const verifiableRecords = 300

// verifiableEvent is one line of the verifiable tools' JSON output.
type verifiableEvent struct {
	Name    string `json:"name"`
	Acked   int    `json:"acked"`
	Sent    int    `json:"sent"`
	Count   int    `json:"count"`
	Success *bool  `json:"success"`
	Error   string `json:"error"`
	Offsets []struct {
		Partition int32 `json:"partition"`
		Offset    int64 `json:"offset"`
	} `json:"offsets"`
}

func verifiableEvents(out string) ([]verifiableEvent, error) {
	var evs []verifiableEvent
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var ev verifiableEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return nil, fmt.Errorf("not a JSON event: %q", sc.Text())
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

func runToolVerifiable(ctx context.Context, k *checkCell) error {
	t, g, bs := k.prefix, k.prefix+"-group", k.bootstrap()
	if err := k.d.oracle.createTopic(ctx, t, 3, k.d.rf, nil); err != nil {
		return err
	}
	n := strconv.Itoa(verifiableRecords)
	out, err := k.tool(ctx, "", "kafka-verifiable-producer", "--bootstrap-server", bs, "--topic", t, "--max-messages", n, "--acks", "-1")
	if err != nil {
		return err
	}
	evs, err := verifiableEvents(out)
	if err != nil {
		return fmt.Errorf("kafka-verifiable-producer: %w", err)
	}
	acked := -1
	for _, ev := range evs {
		switch ev.Name {
		case "producer_send_error":
			return fmt.Errorf("kafka-verifiable-producer: a send failed: %s", ev.Error)
		case "tool_data":
			acked = ev.Acked
		}
	}
	if acked != verifiableRecords {
		return fmt.Errorf("kafka-verifiable-producer: %d records acknowledged, want %d", acked, verifiableRecords)
	}
	out, err = k.tool(ctx, "", "kafka-verifiable-consumer", "--bootstrap-server", bs, "--topic", t, "--group-id", g,
		"--max-messages", n, "--reset-policy", "earliest")
	if err != nil {
		return err
	}
	if evs, err = verifiableEvents(out); err != nil {
		return fmt.Errorf("kafka-verifiable-consumer: %w", err)
	}
	consumed, commits := 0, 0
	for _, ev := range evs {
		switch ev.Name {
		case "records_consumed":
			consumed += ev.Count
		case "offsets_committed":
			if ev.Success == nil || !*ev.Success {
				return fmt.Errorf("kafka-verifiable-consumer: a commit failed: %s", ev.Error)
			}
			commits++
		}
	}
	if consumed != verifiableRecords || commits == 0 {
		return fmt.Errorf("kafka-verifiable-consumer consumed %d records in %d commits, want %d", consumed, commits, verifiableRecords)
	}
	got, err := k.d.oracle.committed(ctx, g, t)
	if err != nil {
		return err
	}
	var sum int64
	for _, o := range got {
		sum += o
	}
	if sum != verifiableRecords {
		return fmt.Errorf("the group's committed offsets %v add up to %d, want %d", got, sum, verifiableRecords)
	}
	return nil
}

var toolPerf = &check{
	name:    "kafka-producer-perf-test",
	family:  "Kafka tools",
	what:    "20,000 lz4 records with acks=all, then 5,000 in transactions of 200 ms: every record arrives, and read_committed sees all the transactional ones",
	timeout: 3 * time.Minute,
	run:     runToolPerf,
}

func runToolPerf(ctx context.Context, k *checkCell) error {
	t, tx, bs := k.prefix, k.prefix+"-txn", k.bootstrap()
	for _, topic := range []string{t, tx} {
		if err := k.d.oracle.createTopic(ctx, topic, 3, k.d.rf, nil); err != nil {
			return err
		}
	}
	out, err := k.tool(ctx, "", "kafka-producer-perf-test", "--topic", t, "--num-records", "20000", "--record-size", "100",
		"--throughput", "-1", "--producer-props", "bootstrap.servers="+bs, "acks=all", "compression.type=lz4")
	if err != nil {
		return err
	}
	if err := expect("kafka-producer-perf-test", out, `(?m)^20000 records sent, `); err != nil {
		return err
	}
	if n, err := countRecords(ctx, k.d.seeds, t, false); err != nil || n != 20000 {
		return fmt.Errorf("the topic holds %d records after kafka-producer-perf-test sent 20000 (%v)", n, err)
	}
	out, err = k.tool(ctx, "", "kafka-producer-perf-test", "--topic", tx, "--num-records", "5000", "--record-size", "100",
		"--throughput", "-1", "--transactional-id", tx+"-id", "--transaction-duration-ms", "200",
		"--producer-props", "bootstrap.servers="+bs, "acks=all")
	if err != nil {
		return err
	}
	if err := expect("kafka-producer-perf-test --transactional-id", out, `(?m)^5000 records sent, `); err != nil {
		return err
	}
	if n, err := countRecords(ctx, k.d.seeds, tx, true); err != nil || n != 5000 {
		return fmt.Errorf("read_committed sees %d records after kafka-producer-perf-test committed 5000 in transactions (%v)", n, err)
	}
	return nil
}
