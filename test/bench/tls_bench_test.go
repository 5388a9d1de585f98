package bench

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
	"spool/test/peers/kafkapeer"
)

const sectionTLS = "TLS: single node, PLAINTEXT and SSL listeners of one server"

// BenchmarkTLS measures produce and consume throughput over SSL next to
// PLAINTEXT on one Spool and one Apache Kafka, each serving both
// listeners from one process (a fresh topic per cell, created over
// PLAINTEXT). TLS rules out sendfile on both, so consume over SSL is where
// the gap shows: every fetched byte is read, copied and encrypted.
func BenchmarkTLS(b *testing.B) {
	// Longer cells than the matrix's: one SSL-against-PLAINTEXT ratio
	// is two cells, and a 1.5 s cell on a shared machine swings by more
	// than the gap measured.
	c := cellTimes()
	c.warm, c.measure = max(c.warm, 2*time.Second), max(c.measure, 5*time.Second)
	pki := harness.NewPKI(b, "bench")
	ssl := map[string]string{
		"ssl.keystore.type": "PEM", "ssl.keystore.location": pki.Issue("broker", "broker"),
		"ssl.truststore.type": "PEM", "ssl.truststore.location": pki.CAFile,
	}
	sp, spoolSSL := startSpoolSSL(b, ssl)
	defer sp.stop()
	// Go's server picks AES-128-GCM under TLS 1.3 and Java's AES-256-GCM;
	// Kafka is held to Go's choice so both encrypt the same way.
	kssl := map[string]string{"ssl.cipher.suites": "TLS_AES_128_GCM_SHA256"}
	for k, v := range ssl {
		kssl[k] = v
	}
	kp := startKafkaSSL(b, kssl)
	defer kp.stop()
	// One unmeasured round over SSL on each: a JVM compiles its TLS path
	// only under load, and primeKafka warms PLAINTEXT alone.
	warm := workload{size: 1024, acks: "1", partitions: 6, brokers: 1, rf: 1}
	short := cells{measure: 2 * time.Second}
	tlsCell(b, sp, []string{spoolSSL}, warm, short, kgo.DialTLSConfig(pki.ClientTLS("")))
	tlsCell(b, kp, kp.kafka.SSLAddrs, warm, short, kgo.DialTLSConfig(pki.ClientTLS("")))
	table.note("TLS rows: Spool and Apache Kafka %s (its defaults, heap %s) each serve a PLAINTEXT and an SSL listener (PEM keystore, one-way TLS, no client certificates; Kafka with ssl.cipher.suites=TLS_AES_128_GCM_SHA256, the suite Spool's Go server picks); each cell produces to a fresh topic (created over PLAINTEXT, flush.messages=1 on Kafka's acks=all topics) and re-reads it over the same listener, %v warm-up then %v measured, after an unmeasured round over SSL on each server.", kafkaVersion, kafkaHeap, c.warm, c.measure)
	for _, acks := range []string{"1", "all"} {
		w := workload{size: 1024, acks: acks, partitions: 6, brokers: 1, rf: 1}
		b.Run("acks="+acks, func(b *testing.B) {
			var spoolTLS, kafkaTLS suite
			sPlain := tlsCell(b, sp, sp.addrs, w, c)
			sSSL := tlsCell(b, sp, []string{spoolSSL}, w, c, kgo.DialTLSConfig(spoolTLS.config(pki)))
			kPlain := tlsCell(b, kp, kp.addrs, w, c)
			kSSL := tlsCell(b, kp, kp.kafka.SSLAddrs, w, c, kgo.DialTLSConfig(kafkaTLS.config(pki)))
			for i, what := range []string{"produce", "consume"} {
				mk := func(listener, unit string, s, k float64) row {
					return row{Section: sectionTLS, Workload: fmt.Sprintf("%s %s, %s", w, what, listener), Unit: unit, Spool: s, Peers: map[string]float64{"kafka": k}}
				}
				table.add(mk("PLAINTEXT", "MB/s", sPlain[i], kPlain[i]))
				table.add(mk("SSL", "MB/s", sSSL[i], kSSL[i]))
				table.add(mk("SSL as % of PLAINTEXT", "%", pct(sSSL[i], sPlain[i]), pct(kSSL[i], kPlain[i])))
				table.note("TLS %s %s: Spool over SSL is %.0f%% of Spool over PLAINTEXT (Kafka: %.0f%%) and %.2fx Kafka over SSL.",
					w, what, pct(sSSL[i], sPlain[i]), pct(kSSL[i], kPlain[i]), sSSL[i]/kSSL[i])
			}
			table.note("TLS %s: negotiated %s with Spool, %s with Kafka.", w, spoolTLS.get(), kafkaTLS.get())
		})
	}
}

func pct(v, of float64) float64 {
	if of == 0 {
		return 0
	}
	return 100 * v / of
}

// startSpoolSSL starts a single-node Spool with a PLAINTEXT listener (its
// addrs, for readiness and topic creation) and an SSL one, whose address
// it returns.
func startSpoolSSL(b *testing.B, ssl map[string]string) (*server, string) {
	n := harness.SingleNode(b, nil)
	sslAddr := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(b))
	n.Props["listeners"] = fmt.Sprintf("PLAINTEXT://%s,SSL://%s,CONTROLLER://%s", n.Addr, sslAddr, n.CtrlAddr)
	for k, v := range ssl {
		n.Props[k] = v
	}
	var conf strings.Builder
	for k, v := range n.Props {
		fmt.Fprintf(&conf, "%s=%s\n", k, v)
	}
	if err := os.WriteFile(n.ConfigFile, []byte(conf.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	return startNodes(b, []*harness.Node{n}, []string{"listeners=PLAINTEXT,SSL"}), sslAddr
}

// startKafkaSSL is startWarmKafka with an SSL listener beside PLAINTEXT.
func startKafkaSSL(b *testing.B, ssl map[string]string) *server {
	s := startKafkaWith(b, kafkapeer.Options{Nodes: 1, Overrides: ssl, SSL: true})
	if err := primeKafka(s.addrs); err != nil {
		s.stop()
		b.Fatalf("prime kafka: %v", err)
	}
	return s
}

// tlsCell produces to a fresh topic over addrs at full rate, then
// re-reads it, and returns produce and consume MB/s.
func tlsCell(b *testing.B, s *server, addrs []string, w workload, c cells, opts ...kgo.Opt) [2]float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	topic := fmt.Sprintf("tls-bench-%d", time.Now().UnixNano())
	var configs map[string]*string
	if s.kafka != nil && w.acks == "all" {
		// Spool fsyncs acks=all batches on RF=1 before answering.
		one := "1"
		configs = map[string]*string{"flush.messages": &one}
	}
	if err := createTopic(ctx, s.addrs, topic, w.partitions, w.rf, configs); err != nil {
		b.Fatalf("%s: %v", s.name, err)
	}
	defer deleteTopic(s.addrs, topic)
	p, err := produceMax(ctx, addrs, topic, w, c, opts...)
	if err != nil {
		b.Fatalf("%s %s produce over %v: %v", s.name, w, addrs, err)
	}
	rate, _, err := consumeRate(ctx, addrs, topic, p.total, c, opts...)
	if err != nil {
		b.Fatalf("%s %s consume over %v: %v", s.name, w, addrs, err)
	}
	mb := float64(w.size) / 1e6
	return [2]float64{p.rate * mb, rate * mb}
}

// suite records the TLS version and cipher suite a server negotiated, so
// the table says what was compared.
type suite struct {
	mu   sync.Mutex
	name string
}

func (s *suite) config(pki *harness.PKI) *tls.Config {
	cfg := pki.ClientTLS("")
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.name = tls.VersionName(cs.Version) + " " + tls.CipherSuiteName(cs.CipherSuite)
		return nil
	}
	return cfg
}

func (s *suite) get() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.name
}
