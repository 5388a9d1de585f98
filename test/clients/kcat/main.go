// Command kcat is the kcat runner of the client matrix: it turns the
// matrix's record files into kcat invocations and kcat's JSON output back
// into record files. kcat itself (Debian's, on librdkafka) does the Kafka
// work.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"spool/test/clients/internal/spec"
)

// keyDelim separates key from value on kcat's input; no matrix key or value
// contains a tab.
const keyDelim = "\t"

// sizes lets librdkafka carry the matrix's 1 MiB records.
var sizes = []string{"-X", "message.max.bytes=4000000"}

func main() {
	a := spec.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), a.Timeout)
	defer cancel()
	switch a.Scenario {
	case "produce":
		produce(ctx, a)
	case "group":
		group(ctx, a)
	case "offsets":
		offsets(ctx, a)
	case "metadata":
		metadata(ctx, a)
	default:
		spec.Fail("kcat runner has no scenario %q", a.Scenario)
	}
}

func kcat(ctx context.Context, a spec.Args, stdin []byte, args ...string) []byte {
	cmd := exec.CommandContext(ctx, "kcat", slices.Concat(security(a.Security), args)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		msg, _, _ = strings.Cut(msg, "\n")
		spec.Fail("kcat %s: %v: %s", strings.Join(args[:min(len(args), 6)], " "), err, msg)
	}
	return out
}

// security is librdkafka's configuration for the matrix's security flags.
func security(s spec.Security) []string {
	if !s.TLS() && !s.SASL() {
		return nil
	}
	out := []string{"-X", "security.protocol=" + strings.ToLower(s.Protocol)}
	if s.TLS() {
		out = append(out, "-X", "ssl.ca.location="+s.CAFile)
	}
	if s.SASL() {
		out = append(out, "-X", "sasl.mechanisms="+s.Mechanism, "-X", "sasl.username="+s.User, "-X", "sasl.password="+s.Password)
	}
	return out
}

// produce runs kcat once per record: kcat's headers (-H) and its null-value
// switch (-Z) apply to a whole invocation.
func produce(ctx context.Context, a spec.Args) {
	want := spec.ReadRecords(a.In)
	for _, r := range want {
		args := []string{"-b", a.Bootstrap, "-P", "-t", a.Topic, "-p", strconv.Itoa(int(r.Partition)), "-K", keyDelim, "-z", a.Codec,
			"-X", "linger.ms=0"}
		args = append(args, sizes...)
		if a.Idempotent {
			args = append(args, "-X", "enable.idempotence=true")
		}
		if r.Value == nil {
			args = append(args, "-Z")
		}
		for _, h := range r.Headers {
			args = append(args, "-H", h.Key+"="+string(h.Value))
		}
		var line []byte
		if r.Key != nil {
			line = append(append(line, r.Key...), keyDelim...)
		}
		line = append(line, r.Value...)
		if len(line) == 0 {
			spec.Fail("kcat cannot produce a record with a null key and an empty value")
		}
		kcat(ctx, a, line, args...)
	}
	out := consume(ctx, a, len(want), "-C", "-t", a.Topic, "-o", "beginning", "-e")
	spec.WriteLines(a.Out, out)
}

// jsonMsg is kcat's -J envelope.
type jsonMsg struct {
	Partition int32     `json:"partition"`
	Offset    int64     `json:"offset"`
	Ts        int64     `json:"ts"`
	Headers   []*string `json:"headers"`
	Key       *string   `json:"key"`
	Payload   *string   `json:"payload"`
}

func consume(ctx context.Context, a spec.Args, n int, mode ...string) []spec.Record {
	args := append([]string{"-b", a.Bootstrap, "-J", "-u", "-c", strconv.Itoa(n), "-X", "fetch.message.max.bytes=4000000"}, mode...)
	raw := kcat(ctx, a, nil, args...)
	var out []spec.Record
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var m jsonMsg
		spec.Check(json.Unmarshal(sc.Bytes(), &m), "decode kcat output")
		r := spec.Record{Partition: m.Partition, Offset: m.Offset, Timestamp: m.Ts, Key: bytesOf(m.Key), Value: bytesOf(m.Payload)}
		for i := 0; i+1 < len(m.Headers); i += 2 {
			r.Headers = append(r.Headers, spec.Header{Key: *m.Headers[i], Value: bytesOf(m.Headers[i+1])})
		}
		out = append(out, r)
	}
	spec.Check(sc.Err(), "read kcat output")
	if len(out) != n {
		spec.Fail("kcat returned %d records, want %d", len(out), n)
	}
	return out
}

func bytesOf(s *string) []byte {
	if s == nil {
		return nil
	}
	return []byte(*s)
}

// group consumes --count records with kcat's balanced consumer; it commits
// the offsets of what it handed out when it closes.
func group(ctx context.Context, a spec.Args) {
	out := consume(ctx, a, a.Count, "-G", a.Group, "-X", "auto.offset.reset=earliest", a.Topic)
	spec.WriteLines(a.Out, out)
}

func offsets(ctx context.Context, a spec.Args) {
	var out []spec.TimeOffset
	for _, ts := range a.Timestamps {
		raw := kcat(ctx, a, nil, "-b", a.Bootstrap, "-Q", "-J", "-t", fmt.Sprintf("%s:0:%d", a.Topic, ts))
		var res map[string]map[string]json.RawMessage
		spec.Check(json.Unmarshal(raw, &res), "decode kcat -Q output")
		var p struct {
			Offset int64  `json:"offset"`
			Err    string `json:"err"`
		}
		spec.Check(json.Unmarshal(res[a.Topic]["0"], &p), "decode partition 0 of kcat -Q output")
		if p.Err != "" {
			spec.Fail("offset for %d: %s", ts, p.Err)
		}
		out = append(out, spec.TimeOffset{Timestamp: ts, Offset: p.Offset})
	}
	spec.WriteLines(a.Out, out)
}

// metadata asks with kcat -L, which uses a producer handle: librdkafka lets
// producers ask the broker to create missing topics.
func metadata(ctx context.Context, a spec.Args) {
	var last spec.Metadata
	for ctx.Err() == nil {
		cmd := exec.CommandContext(ctx, "kcat", slices.Concat(security(a.Security), []string{"-b", a.Bootstrap, "-L", "-J", "-t", a.Topic})...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		raw, err := cmd.Output()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			// librdkafka logs why it could not connect (a failed
			// login or handshake) before kcat gives up.
			spec.Fail("kcat -L: %v: %s", err, strings.TrimSpace(stderr.String()))
		}
		var md struct {
			Topics []struct {
				Topic      string            `json:"topic"`
				Error      string            `json:"error"`
				Partitions []json.RawMessage `json:"partitions"`
			} `json:"topics"`
		}
		spec.Check(json.Unmarshal(raw, &md), "decode kcat -L output")
		last = spec.Metadata{}
		for _, t := range md.Topics {
			if t.Topic != a.Topic {
				continue
			}
			if t.Error != "" {
				last.Error = t.Error
				continue
			}
			last.Found, last.Partitions = true, len(t.Partitions)
		}
		if last.Found {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	spec.WriteLines(a.Out, []spec.Metadata{last})
}
