package clients_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

// python is Debian's interpreter: the Debian client packages are installed
// for it, and the python3 first on PATH may be another one.
const python = "/usr/bin/python3"

// client is one stock client: how to prepare its runner, how to start it,
// what version is under test, and which scenarios it has no feature for.
type client struct {
	name string
	// prepare builds or finds the runner and returns the command that
	// starts it, or why it cannot.
	prepare func(b *builds) ([]string, error)
	// version describes what is under test, read from the installed client.
	version func(ctx context.Context, b *builds) string
	// na maps a scenario to why the client cannot run it.
	na map[string]string
	// nullReadsEmpty: the client's consumer API hands out null and empty
	// keys and values alike, so its own reads cannot tell them apart. The
	// oracle still holds what it produced to the strict rule.
	nullReadsEmpty bool
	// readsBackInGroup: the client can only consume in a group, so its
	// produce cells read back through the group coordinator too.
	readsBackInGroup bool
	// refusals are the negative cells of the secured deployment the
	// client runs: the error it must report for each, as the client words
	// Kafka's (SASL_AUTHENTICATION_FAILED, a failed TLS handshake, a
	// closed connection).
	refusals map[string]*regexp.Regexp
}

const (
	naKcatAdmin       = "kcat has no admin API."
	naKafkaGoIdem     = "kafka-go's Writer has no idempotent producer."
	naKafkaPythonIdem = "kafka-python 2.0.2 (Debian's) has no idempotent producer."
	naKcatTxn         = "kcat commits a transaction when its input ends and aborts one only on Ctrl-C, so it cannot run the scripted abort."
	naKafkaGoTxn      = "kafka-go has no transactional producer."
	naKafkaPythonTxn  = "kafka-python 2.0.2 (Debian's) has no transactional producer."
	naKcatTxnOffsets  = "kcat cannot commit consumed offsets in a transaction."
	naKafkajsCodec    = "kafkajs's lz4 and zstd codecs are separate npm packages with native builds that do not install here; gzip is built in and snappy comes from kafkajs-snappy (pure JavaScript)."
	naSarama848       = "sarama has no consumer for the KIP-848 group protocol (it sends no ConsumerGroupHeartbeat)."
	naKafkaGo848      = "kafka-go has no consumer for the KIP-848 group protocol."
	naOldRdkafka848   = "Debian's librdkafka 2.0.2 predates the KIP-848 group protocol."
	naKafkaPython848  = "kafka-python 2.x has no consumer for the KIP-848 group protocol."
	naKafkajs848      = "kafkajs has no consumer for the KIP-848 group protocol."
	naAiokafka848     = "aiokafka has no consumer for the KIP-848 group protocol."
)

var clients = []*client{
	{
		name:    "franz-go",
		prepare: goRunner("franzgo"),
		version: goModVersion("github.com/twmb/franz-go"),
		refusals: map[string]*regexp.Regexp{
			refusedPassword:  regexp.MustCompile(`SASL_AUTHENTICATION_FAILED`),
			refusedCA:        regexp.MustCompile(`certificate signed by unknown authority`),
			refusedPlaintext: regexp.MustCompile(`broker closed the connection immediately`),
		},
	},
	{
		name:    "sarama",
		prepare: goRunner("sarama"),
		version: goModVersion("github.com/IBM/sarama"),
		refusals: map[string]*regexp.Regexp{
			refusedPassword:  regexp.MustCompile(`SASL Authentication failed: Authentication failed during authentication due to invalid credentials`),
			refusedCA:        regexp.MustCompile(`certificate signed by unknown authority`),
			refusedPlaintext: regexp.MustCompile(`run out of available brokers to talk to: EOF`),
		},
		na: map[string]string{"group-kip848": naSarama848},
	},
	{
		name:    "kafka-go",
		prepare: goRunner("kafkago"),
		version: goModVersion("github.com/segmentio/kafka-go"),
		refusals: map[string]*regexp.Regexp{
			refusedPassword:  regexp.MustCompile(`\[58\] SASL Authentication Failed`),
			refusedCA:        regexp.MustCompile(`certificate signed by unknown authority`),
			refusedPlaintext: regexp.MustCompile(`\bEOF\b`),
		},
		na:             map[string]string{"idempotent": naKafkaGoIdem, "transactions": naKafkaGoTxn, "txn-offsets": naKafkaGoTxn, "group-kip848": naKafkaGo848},
		nullReadsEmpty: true,
	},
	{
		name:    "confluent-kafka-go",
		prepare: func(b *builds) ([]string, error) { return b.confluent() },
		version: confluentVersion,
	},
	{
		name: "kcat",
		prepare: func(b *builds) ([]string, error) {
			if _, err := exec.LookPath("kcat"); err != nil {
				return nil, fmt.Errorf("kcat is not installed: run `make clients` (apt-get install kcat)")
			}
			return goRunner("kcat")(b)
		},
		version: kcatVersion,
		refusals: map[string]*regexp.Regexp{
			refusedPassword:  regexp.MustCompile(`SASL authentication error: Authentication failed`),
			refusedCA:        regexp.MustCompile(`SSL handshake failed.*certificate verify failed`),
			refusedPlaintext: regexp.MustCompile(`Disconnected while requesting ApiVersion`),
		},
		na: map[string]string{"admin": naKcatAdmin, "transactions": naKcatTxn, "txn-offsets": naKcatTxnOffsets, "group-kip848": naOldRdkafka848},
	},
	{
		name:    "confluent-kafka-python",
		prepare: pythonRunner("confluent_runner.py", "confluent_kafka", "python3-confluent-kafka"),
		version: func(ctx context.Context, b *builds) string {
			return debVersion(ctx, "python3-confluent-kafka") + " (librdkafka " + debVersion(ctx, "librdkafka1") + ")"
		},
		na: map[string]string{"group-kip848": naOldRdkafka848},
	},
	{
		name:    "kafka-python",
		prepare: pythonRunner("kafka_python_runner.py", "kafka", "python3-kafka"),
		version: func(ctx context.Context, b *builds) string { return debVersion(ctx, "python3-kafka") },
		// kafka-python reports a refused login or a closed connection
		// only as NoBrokersAvailable; a refused certificate it names.
		refusals: map[string]*regexp.Regexp{refusedCA: regexp.MustCompile(`CERTIFICATE_VERIFY_FAILED`)},
		na:       map[string]string{"idempotent": naKafkaPythonIdem, "transactions": naKafkaPythonTxn, "txn-offsets": naKafkaPythonTxn, "group-kip848": naKafkaPython848},
	},
	{
		name:    "java",
		prepare: javaRunner,
		version: javaVersion,
		refusals: map[string]*regexp.Regexp{
			refusedPassword:  regexp.MustCompile(`SaslAuthenticationException.*Authentication failed`),
			refusedCA:        regexp.MustCompile(`unable to find valid certification path`),
			refusedPlaintext: regexp.MustCompile(`TimeoutException`),
		},
	},
	{
		name: "kafkajs",
		prepare: func(b *builds) ([]string, error) {
			dir := filepath.Join(b.root, "test", "clients", "kafkajs")
			if _, err := os.Stat(filepath.Join(dir, "node_modules", "kafkajs")); err != nil {
				return nil, fmt.Errorf("kafkajs is not installed: run `make clients` (cd test/clients/kafkajs && npm ci)")
			}
			if _, err := exec.LookPath("node"); err != nil {
				return nil, fmt.Errorf("node is not installed: kafkajs needs Node.js")
			}
			return []string{"node", filepath.Join(dir, "runner.js")}, nil
		},
		version: kafkajsVersion,
		refusals: map[string]*regexp.Regexp{
			refusedPassword:  regexp.MustCompile(`KafkaJSSASLAuthenticationError.*invalid credentials`),
			refusedCA:        regexp.MustCompile(`unable to verify the first certificate`),
			refusedPlaintext: regexp.MustCompile(`Closed connection`),
		},
		na:               map[string]string{"lz4": naKafkajsCodec, "zstd": naKafkajsCodec, "group-kip848": naKafkajs848},
		readsBackInGroup: true,
	},
}

// builds compiles the Go runners once per test run into a temporary
// directory; the Go build cache makes later runs cheap.
type builds struct {
	root, dir string

	goOnce sync.Once
	goErr  error

	cfOnce sync.Once
	cfErr  error
	cfBin  string

	// toolsJVM are the JVM options of Kafka's tools, with the class-data
	// archive prepareTools made.
	toolsJVM string

	jsaOnce sync.Once
	jsa     string // the Java runners' class-data archive, if made
}

func goRunner(pkg string) func(*builds) ([]string, error) {
	return func(b *builds) ([]string, error) {
		b.goOnce.Do(func() {
			cmd := exec.Command("go", "build", "-o", b.dir+string(os.PathSeparator),
				"./test/clients/franzgo", "./test/clients/sarama", "./test/clients/kafkago", "./test/clients/kcat")
			cmd.Dir = b.root
			if out, err := cmd.CombinedOutput(); err != nil {
				b.goErr = fmt.Errorf("build Go runners: %v: %s", err, out)
			}
		})
		if b.goErr != nil {
			return nil, b.goErr
		}
		return []string{filepath.Join(b.dir, pkg)}, nil
	}
}

// confluent builds the confluent-kafka-go runner in its own module, so the
// main module never links cgo or the bundled librdkafka.
func (b *builds) confluent() ([]string, error) {
	b.cfOnce.Do(func() {
		b.cfBin = filepath.Join(b.dir, "confluentgo")
		cmd := exec.Command("go", "build", "-o", b.cfBin, ".")
		cmd.Dir = filepath.Join(b.root, "test", "clients", "confluentgo")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.cfErr = fmt.Errorf("build confluent-kafka-go runner (needs gcc and cgo): %v: %s", err, out)
		}
	})
	if b.cfErr != nil {
		return nil, b.cfErr
	}
	return []string{b.cfBin}, nil
}

func pythonRunner(script, module, pkg string) func(*builds) ([]string, error) {
	return func(b *builds) ([]string, error) {
		if out, err := exec.Command(python, "-c", "import "+module).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s is not installed for %s: run `make clients` (apt-get install %s): %s", module, python, pkg, lastLine(string(out)))
		}
		return []string{python, filepath.Join(b.root, "test", "clients", "python", script)}, nil
	}
}

func goModVersion(mod string) func(context.Context, *builds) string {
	return func(ctx context.Context, b *builds) string {
		cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Version}}", mod)
		cmd.Dir = b.root
		out, err := cmd.Output()
		if err != nil {
			return "unknown"
		}
		return strings.TrimSpace(string(out))
	}
}

func confluentVersion(ctx context.Context, b *builds) string {
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Version}}", "github.com/confluentinc/confluent-kafka-go/v2")
	cmd.Dir = filepath.Join(b.root, "test", "clients", "confluentgo")
	out, err := cmd.Output()
	v := "unknown"
	if err == nil {
		v = strings.TrimSpace(string(out))
	}
	if argv, err := b.confluent(); err == nil {
		if lib, err := exec.CommandContext(ctx, argv[0], "--scenario", "version").Output(); err == nil {
			v += " (bundled librdkafka " + strings.TrimSpace(string(lib)) + ")"
		}
	}
	return v
}

var kcatVersionRE = regexp.MustCompile(`Version (\S+) .*librdkafka (\S+)`)

func kcatVersion(ctx context.Context, b *builds) string {
	out, _ := exec.CommandContext(ctx, "kcat", "-V").CombinedOutput()
	if m := kcatVersionRE.FindStringSubmatch(string(out)); m != nil {
		return fmt.Sprintf("%s (Debian %s, librdkafka %s)", m[1], debVersion(ctx, "kcat"), m[2])
	}
	return "unknown"
}

func debVersion(ctx context.Context, pkg string) string {
	out, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f", "${Version}", pkg).Output()
	if err != nil || len(out) == 0 {
		return "unknown"
	}
	return string(out)
}

func kafkajsVersion(ctx context.Context, b *builds) string {
	raw, err := os.ReadFile(filepath.Join(b.root, "test", "clients", "kafkajs", "package-lock.json"))
	if err != nil {
		return "unknown"
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	if json.Unmarshal(raw, &lock) != nil {
		return "unknown"
	}
	v := lock.Packages["node_modules/kafkajs"].Version
	if s := lock.Packages["node_modules/kafkajs-snappy"].Version; s != "" {
		v += fmt.Sprintf(" (kafkajs-snappy %s", s)
		if node, err := exec.CommandContext(ctx, "node", "--version").Output(); err == nil {
			v += ", node " + strings.TrimSpace(string(node))
		}
		v += ")"
	}
	return v
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
