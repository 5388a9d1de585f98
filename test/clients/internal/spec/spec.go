// Package spec is the contract between the matrix driver and the Go client
// runners: the command-line flags every runner takes, the JSON-lines record
// files they read and write, and the one-line failure convention.
//
// The Python, JavaScript and cgo runners implement the same contract by hand;
// keep them in step when this changes.
package spec

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Record is one Kafka record as the files carry it. Key and Value are
// base64 in JSON, null for a null key or value.
type Record struct {
	Partition int32    `json:"p"`
	Offset    int64    `json:"o"`
	Key       []byte   `json:"k"`
	Value     []byte   `json:"v"`
	Headers   []Header `json:"h"`
	// Timestamp in milliseconds; 0 lets the producer choose.
	Timestamp int64 `json:"ts,omitempty"`
}

// Header is one record header.
type Header struct {
	Key   string `json:"k"`
	Value []byte `json:"v"`
}

// Metadata is what the metadata scenario reports.
type Metadata struct {
	Found      bool   `json:"found"`
	Partitions int    `json:"partitions"`
	Error      string `json:"error,omitempty"`
}

// TimeOffset is one answer of the offsets scenario.
type TimeOffset struct {
	Timestamp int64 `json:"ts"`
	Offset    int64 `json:"offset"`
}

// Args are the flags every runner accepts.
type Args struct {
	Bootstrap  string
	Scenario   string // admin, produce, group, transform, offsets, metadata
	Topic      string
	In, Out    string // record files
	Group      string
	Count      int // records the group scenario consumes before it commits and exits
	Codec      string
	Idempotent bool
	// Transactional: produce everything in a transaction that is aborted,
	// then again in one that is committed, and read back read_committed.
	Transactional bool
	// To is the topic the transform scenario produces to: it consumes
	// --count records of --topic in --group and, in one transaction,
	// produces each to the same partition of --to and commits the
	// consumed offsets to the group. Abort aborts that transaction
	// instead of committing it.
	To    string
	Abort bool
	// GroupProtocol is the group scenario's protocol: classic, or
	// consumer (KIP-848).
	GroupProtocol string
	Partitions    int
	RF            int
	Timestamps    []int64
	Timeout       time.Duration
	// Security is how the runner reaches the brokers; the zero value is
	// PLAINTEXT.
	Security Security
}

// Security carries Kafka's client security settings, under Kafka's names:
// security.protocol (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL),
// sasl.mechanism (SCRAM-SHA-512 is what the matrix uses), the SCRAM user
// and password, and the CA the client trusts as a PEM file (a PEM
// ssl.truststore.location, or librdkafka's ssl.ca.location).
type Security struct {
	Protocol  string
	Mechanism string
	User      string
	Password  string
	CAFile    string
}

// TLS reports whether the protocol runs over TLS.
func (s Security) TLS() bool { return s.Protocol == "SSL" || s.Protocol == "SASL_SSL" }

// SASL reports whether the protocol authenticates with SASL.
func (s Security) SASL() bool { return strings.HasPrefix(s.Protocol, "SASL_") }

// TLSConfig is the Go runners' TLS configuration: it trusts CAFile only
// and checks the broker's name, as Kafka's clients do by default
// (ssl.endpoint.identification.algorithm=https).
func (s Security) TLSConfig() *tls.Config {
	pem, err := os.ReadFile(s.CAFile)
	Check(err, "read --ca-file")
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		Fail("--ca-file %s holds no certificate", s.CAFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// Parse reads the flags from os.Args.
func Parse() Args {
	var a Args
	var ts string
	var timeout float64
	flag.StringVar(&a.Bootstrap, "bootstrap", "", "comma-separated host:port list")
	flag.StringVar(&a.Scenario, "scenario", "", "admin | produce | group | transform | offsets | metadata")
	flag.StringVar(&a.Topic, "topic", "", "topic")
	flag.StringVar(&a.In, "in", "", "records to produce (JSON lines)")
	flag.StringVar(&a.Out, "out", "", "where to write what was read (JSON lines)")
	flag.StringVar(&a.Group, "group", "", "consumer group")
	flag.IntVar(&a.Count, "count", 0, "records to consume")
	flag.StringVar(&a.Codec, "codec", "none", "none | gzip | snappy | lz4 | zstd")
	flag.BoolVar(&a.Idempotent, "idempotent", false, "enable the idempotent producer")
	flag.BoolVar(&a.Transactional, "transactional", false, "abort one transaction of the records, commit another")
	flag.StringVar(&a.To, "to", "", "topic the transform scenario produces to")
	flag.BoolVar(&a.Abort, "abort", false, "transform: abort the transaction instead of committing it")
	flag.StringVar(&a.GroupProtocol, "group-protocol", "classic", "group: classic, or consumer (KIP-848)")
	flag.IntVar(&a.Partitions, "partitions", 3, "partitions for admin create")
	flag.IntVar(&a.RF, "rf", 1, "replication factor for admin create")
	flag.StringVar(&ts, "timestamps", "", "comma-separated millisecond timestamps")
	flag.Float64Var(&timeout, "timeout", 30, "seconds")
	flag.StringVar(&a.Security.Protocol, "security-protocol", "PLAINTEXT", "PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL")
	flag.StringVar(&a.Security.Mechanism, "sasl-mechanism", "SCRAM-SHA-512", "SASL mechanism")
	flag.StringVar(&a.Security.User, "sasl-user", "", "SASL user")
	flag.StringVar(&a.Security.Password, "sasl-password", "", "SASL password")
	flag.StringVar(&a.Security.CAFile, "ca-file", "", "PEM file of the CA the client trusts")
	flag.Parse()
	for _, s := range strings.Split(ts, ",") {
		if s == "" {
			continue
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			Fail("bad --timestamps: %v", err)
		}
		a.Timestamps = append(a.Timestamps, v)
	}
	a.Timeout = time.Duration(timeout * float64(time.Second))
	return a
}

// Brokers splits --bootstrap.
func (a Args) Brokers() []string { return strings.Split(a.Bootstrap, ",") }

// Fail prints the one-line failure reason and exits 1.
func Fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Println(strings.ReplaceAll(msg, "\n", " | "))
	os.Exit(1)
}

// Check fails with context when err is not nil.
func Check(err error, what string) {
	if err != nil {
		Fail("%s: %v", what, err)
	}
}

// ReadRecords reads a JSON-lines record file.
func ReadRecords(path string) []Record {
	f, err := os.Open(path)
	Check(err, "open records")
	defer f.Close()
	var out []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var r Record
		Check(json.Unmarshal(sc.Bytes(), &r), "decode record")
		out = append(out, r)
	}
	Check(sc.Err(), "read records")
	return out
}

// WriteLines writes one JSON value per line.
func WriteLines[T any](path string, vs []T) {
	f, err := os.Create(path)
	Check(err, "create output")
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, v := range vs {
		Check(enc.Encode(v), "encode output")
	}
	Check(w.Flush(), "write output")
	Check(f.Close(), "close output")
}

// PerPartition counts the records of each partition.
func PerPartition(recs []Record) map[int32]int {
	m := map[int32]int{}
	for _, r := range recs {
		m[r.Partition]++
	}
	return m
}
