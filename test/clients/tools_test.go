package clients_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"spool/test/peers/kafkapeer"
)

// Kafka's own command-line tools, from the Apache Kafka peer's jars
// (test/peers/kafka), each run as its own process against Spool.

var toolsFamily = &family{
	name:    "Kafka tools",
	prepare: prepareTools,
	version: func(ctx context.Context, _ *builds) string {
		out, err := kafkapeer.Tool(ctx, "kafka-topics", "--version").Output()
		if err != nil {
			return "unknown"
		}
		v := "kafka-tools " + strings.TrimSpace(string(out))
		if jv, err := exec.CommandContext(ctx, "java", "-XshowSettings:properties", "-version").CombinedOutput(); err == nil {
			if m := regexp.MustCompile(`java\.version = (\S+)`).FindSubmatch(jv); m != nil {
				v += fmt.Sprintf(" (Java %s)", m[1])
			}
		}
		return v
	},
}

// toolJVM are tool.sh's own choices for short-lived tools (C1 only, the
// serial collector).
const toolJVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"

// prepareTools checks the peer's jars and records the classes a tool loads
// in a class-data archive, which halves the start-up of each of the many
// tool runs. Without the archive the tools just start slower.
func prepareTools(b *builds) error {
	if err := kafkapeer.Installed(); err != nil {
		return err
	}
	b.toolsJVM = toolJVM
	jsa := filepath.Join(b.dir, "kafka-tools.jsa")
	props := filepath.Join(b.dir, "kafka-tools-archive.properties")
	if err := os.WriteFile(props, []byte("request.timeout.ms=300\ndefault.api.timeout.ms=600\n"), 0o644); err != nil {
		return err
	}
	// A listing against a closed port loads the admin client and fails
	// quickly; the archive is written as the JVM exits.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := kafkapeer.Tool(ctx, "kafka-consumer-groups", "--bootstrap-server", "127.0.0.1:1", "--list", "--timeout", "500", "--command-config", props)
	cmd.Env = append(os.Environ(), "KAFKA_TOOL_JVM_OPTS="+toolJVM+" -XX:ArchiveClassesAtExit="+jsa)
	_ = cmd.Run()
	if st, err := os.Stat(jsa); err == nil && st.Size() > 0 {
		b.toolsJVM = toolJVM + " -XX:SharedArchiveFile=" + jsa
	}
	return nil
}

// toolTimeout bounds one tool run: a JVM start and a few requests.
const toolTimeout = 60 * time.Second

// tool runs one of Kafka's tools with stdin and returns its stdout. A
// non-zero exit is an error carrying the exit status and the end of the
// tool's output.
func (k *checkCell) tool(ctx context.Context, stdin string, name string, args ...string) (string, error) {
	out, _, err := k.toolStreams(ctx, stdin, name, args...)
	return out, err
}

// toolStreams is tool returning stdout and stderr apart: some tools (such
// as kafka-dump-log's index checks) report problems on stderr.
func (k *checkCell) toolStreams(ctx context.Context, stdin string, name string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	cmd := kafkapeer.Tool(ctx, name, k.withSecurity(args)...)
	cmd.Env = append(os.Environ(), "KAFKA_TOOL_JVM_OPTS="+k.b.toolsJVM)
	cmd.WaitDelay = 5 * time.Second
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	k.logf("$ %s %s  (%v)\n%s%s", name, strings.Join(args, " "), time.Since(start).Round(time.Millisecond),
		tail(stdout.String(), 3000), tail(stderr.String(), 2000))
	if ctx.Err() != nil {
		return stdout.String(), stderr.String(), fmt.Errorf("%s did not finish within %v", name, toolTimeout)
	}
	if err != nil {
		why := lastLine(stderr.String())
		if errLine := firstMatch(stderr.String(), `(?m)^.*(Error|Exception).*$`); errLine != "" {
			why = errLine
		}
		if why == "" {
			why = lastLine(stdout.String())
		}
		return stdout.String(), stderr.String(), fmt.Errorf("%s %s: %v: %s", name, firstArgs(args), err, why)
	}
	return stdout.String(), stderr.String(), nil
}

// toolFails runs a tool that must fail, and returns its combined output.
func (k *checkCell) toolFails(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	cmd := kafkapeer.Tool(ctx, name, k.withSecurity(args)...)
	cmd.Env = append(os.Environ(), "KAFKA_TOOL_JVM_OPTS="+k.b.toolsJVM)
	out, err := cmd.CombinedOutput()
	k.logf("$ %s %s  (must fail)\n%s", name, strings.Join(args, " "), tail(string(out), 2000))
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return string(out), fmt.Errorf("%s %s: want a non-zero exit, got %v", name, firstArgs(args), err)
	}
	return string(out), nil
}

// withSecurity adds the secured deployment's --command-config: the tools
// log in as User:tools over SASL_SSL, as Kafka's tools do against a secured
// Kafka.
func (k *checkCell) withSecurity(args []string) []string {
	if k.d.sec == nil {
		return args
	}
	return append(slices.Clone(args), "--command-config", k.d.sec.toolsConfig)
}

// firstArgs names a tool run in an error: its arguments up to the first
// that looks like a value of a long list.
func firstArgs(args []string) string {
	var out []string
	for _, a := range args {
		if a == "--bootstrap-server" {
			continue
		}
		if strings.Contains(a, "127.0.0.1:") {
			continue
		}
		out = append(out, a)
		if len(out) == 6 {
			break
		}
	}
	return strings.Join(out, " ")
}

func firstMatch(s, re string) string {
	return strings.TrimSpace(regexp.MustCompile(re).FindString(s))
}

// bootstrap is the deployment's --bootstrap-server argument.
func (k *checkCell) bootstrap() string { return strings.Join(k.d.seeds, ",") }

// expect fails unless out matches every pattern.
func expect(what, out string, patterns ...string) error {
	for _, p := range patterns {
		if !regexp.MustCompile(p).MatchString(out) {
			return fmt.Errorf("%s: output does not match %q:\n%s", what, p, tail(out, 600))
		}
	}
	return nil
}

// eventually retries f until it succeeds or limit passes: brokers learn of
// metadata changes independently, as in Kafka.
func eventually(ctx context.Context, limit time.Duration, f func() error) error {
	deadline := time.Now().Add(limit)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}
