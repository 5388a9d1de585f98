package test

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
	"spool/test/peers/kafkapeer"
)

// shareNode is a node whose share-group locks expire after two seconds
// and whose members heartbeat twice a second.
func shareNode(t *testing.T, extra map[string]string) *harness.Node {
	props := map[string]string{
		"group.share.record.lock.duration.ms":     "2000",
		"group.share.min.record.lock.duration.ms": "1000",
		"group.share.heartbeat.interval.ms":       "500",
		"group.share.session.timeout.ms":          "10000",
	}
	for k, v := range extra {
		props[k] = v
	}
	return groupNode(t, props)
}

// shareRec is one record a share consumer printed.
type shareRec struct {
	partition int32
	offset    int64
	delivery  int
	value     string
}

// shareConsumer is a Java KafkaShareConsumer (test/testdata/share) in its
// own process.
type shareConsumer struct {
	cmd    *exec.Cmd
	ready  chan struct{}
	hold   chan struct{}
	done   chan struct{}
	mu     sync.Mutex
	recs   []shareRec
	output strings.Builder
}

// startShareConsumer runs ShareConsume.java with the peer's kafka-clients.
func startShareConsumer(t *testing.T, addr, group, topic, action string, idle time.Duration) *shareConsumer {
	t.Helper()
	if err := kafkapeer.Installed(); err != nil {
		t.Fatal(err)
	}
	src, err := filepath.Abs(filepath.Join("testdata", "share", "ShareConsume.java"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	cmd := exec.CommandContext(ctx, "java", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx256m",
		"-Dlog4j2.configurationFile="+filepath.Join(kafkapeer.Dir(), "config", "log4j2.properties"),
		"-cp", filepath.Join(kafkapeer.Dir(), "lib", "*"), src,
		addr, group, topic, action, strconv.FormatInt(idle.Milliseconds(), 10))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &shareConsumer{cmd: cmd, ready: make(chan struct{}), hold: make(chan struct{}), done: make(chan struct{})}
	cmd.Stderr = &lockedWriter{mu: &c.mu, b: &c.output}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		<-c.done
		if t.Failed() {
			c.mu.Lock()
			t.Logf("share consumer %s (%s) stderr:\n%s", action, group, c.output.String())
			c.mu.Unlock()
		}
	})
	go c.read(out)
	return c
}

func (c *shareConsumer) read(out interface{ Read([]byte) (int, error) }) {
	defer close(c.done)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 1 && f[0] == "ready":
			close(c.ready)
		case len(f) == 1 && f[0] == "holding":
			close(c.hold)
		case len(f) == 5 && f[0] == "rec":
			p, _ := strconv.Atoi(f[1])
			off, _ := strconv.ParseInt(f[2], 10, 64)
			d, _ := strconv.Atoi(f[3])
			c.mu.Lock()
			c.recs = append(c.recs, shareRec{int32(p), off, d, f[4]})
			c.mu.Unlock()
		}
	}
	_ = c.cmd.Wait()
}

func (c *shareConsumer) records() []shareRec {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]shareRec(nil), c.recs...)
}

// waitShare waits on ch, failing the test after d.
func waitShare(t *testing.T, ch <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("timed out after %v waiting for %s", d, what)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// waitShareStarted waits until group has a share-partition on every
// partition of topic (share.auto.offset.reset=latest starts them where the
// log ends when first fetched, so records produced before would be
// skipped), as DescribeShareGroupOffsets reports.
func waitShareStarted(t *testing.T, addr, group, topic string, partitions int32, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		req := kmsg.NewPtrDescribeShareGroupOffsetsRequest()
		req.Version = 1
		g := kmsg.NewDescribeShareGroupOffsetsRequestGroup()
		g.GroupID = group
		rt := kmsg.NewDescribeShareGroupOffsetsRequestGroupTopic()
		rt.Topic = topic
		for p := range partitions {
			rt.Partitions = append(rt.Partitions, p)
		}
		g.Topics = append(g.Topics, rt)
		req.Groups = append(req.Groups, g)
		resp, err := harness.Request(addr, req, 10*time.Second)
		started := 0
		if err == nil {
			for _, g := range resp.(*kmsg.DescribeShareGroupOffsetsResponse).Groups {
				for _, t := range g.Topics {
					for _, p := range t.Partitions {
						if p.ErrorCode == 0 && p.StartOffset >= 0 {
							started++
						}
					}
				}
			}
		}
		if started == int(partitions) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s started %d of %d share-partitions of %s within %v (err %v)", group, started, partitions, topic, d, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// distinctValues counts the values in recs.
func distinctValues(recs []shareRec) map[string]int {
	out := map[string]int{}
	for _, r := range recs {
		out[r.value]++
	}
	return out
}

func recKey(r shareRec) string { return fmt.Sprintf("%d/%d", r.partition, r.offset) }
