package test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// alterGroupConfigs sets (value) or deletes (nil) group configs of group
// and returns the resource's error code.
func alterGroupConfigs(t *testing.T, cl *kgo.Client, group string, kv map[string]*string) int16 {
	t.Helper()
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	r := kmsg.NewIncrementalAlterConfigsRequestResource()
	r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeGroupConfig, group
	for k, v := range kv {
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		c.Name, c.Value = k, v
		if v == nil {
			c.Op = kmsg.IncrementalAlterConfigOpDelete
		}
		r.Configs = append(r.Configs, c)
	}
	req.Resources = append(req.Resources, r)
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := req.RequestWith(ctxT(t, time.Minute), cl)
		if err != nil {
			t.Fatal(err)
		}
		// franz-go sends a group's configs to the group's coordinator,
		// which may not be known yet.
		code := resp.Resources[0].ErrorCode
		if code != kerr.CoordinatorNotAvailable.Code || time.Now().After(deadline) {
			return code
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// joinConsumerGroup sends a first ConsumerGroupHeartbeat (epoch 0) as
// member and returns the answer.
func joinConsumerGroup(t *testing.T, cl *kgo.Client, group, member, topic string) *kmsg.ConsumerGroupHeartbeatResponse {
	t.Helper()
	hb := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	hb.Group, hb.MemberID, hb.RebalanceTimeoutMillis = group, member, 30000
	hb.SubscribedTopicNames, hb.Topics = []string{topic}, []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := hb.RequestWith(ctxT(t, time.Minute), cl)
		if err != nil && (!kerr.IsRetriable(err) || time.Now().After(deadline)) {
			t.Fatal(err)
		}
		// The coordinator may still be loading its partition.
		if (err != nil || kerr.IsRetriable(kerr.ErrorForCode(resp.ErrorCode))) && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if resp.ErrorCode != 0 {
			t.Fatalf("join %s: %v", group, kerr.ErrorForCode(resp.ErrorCode))
		}
		return resp
	}
}

// TestGroupConfigsApplyToConsumerGroups: a group's own
// consumer.heartbeat.interval.ms and consumer.session.timeout.ms (resource
// type GROUP, stored in the metadata log) replace the broker's for that
// group only: its members are told the group's interval and are removed
// after the group's session timeout, well before the broker's 45 s.
func TestGroupConfigsApplyToConsumerGroups(t *testing.T) {
	t.Parallel()
	n := groupNode(t, map[string]string{
		"group.consumer.min.session.timeout.ms":    "1000",
		"group.consumer.min.heartbeat.interval.ms": "100",
	})
	grpTopic(t, n.Addr, "gcfg", 1)
	cl := newClient(t, n.Addr)
	s := func(v string) *string { return &v }

	if code := alterGroupConfigs(t, cl, "gcfg-own", map[string]*string{
		"consumer.heartbeat.interval.ms": s("700"),
		"consumer.session.timeout.ms":    s("2000"),
	}); code != 0 {
		t.Fatalf("set group configs: %v", kerr.ErrorForCode(code))
	}
	for _, bad := range []map[string]*string{
		{"consumer.session.timeout.ms": s("500")},         // under group.consumer.min.session.timeout.ms
		{"consumer.heartbeat.interval.ms": s("20000")},    // over group.consumer.max.heartbeat.interval.ms
		{"consumer.session.timeout.ms": s("soon")},        // not an int
		{"share.session.timeout.ms": s("45000")},          // share groups are not served
		{"group.consumer.session.timeout.ms": s("50000")}, // a broker key, not a group one
	} {
		if code := alterGroupConfigs(t, cl, "gcfg-own", bad); code != kerr.InvalidConfig.Code {
			t.Errorf("%v: error %v, want INVALID_CONFIG", bad, kerr.ErrorForCode(code))
		}
	}
	if code := alterGroupConfigs(t, cl, "", map[string]*string{"consumer.session.timeout.ms": s("2000")}); code != kerr.InvalidRequest.Code {
		t.Errorf("the empty group: error %v, want INVALID_REQUEST", kerr.ErrorForCode(code))
	}

	own := joinConsumerGroup(t, cl, "gcfg-own", "m-own", "gcfg")
	other := joinConsumerGroup(t, cl, "gcfg-other", "m-other", "gcfg")
	if own.HeartbeatIntervalMillis != 700 || other.HeartbeatIntervalMillis != 5000 {
		t.Fatalf("heartbeat intervals %d (group's own) and %d (broker's), want 700 and 5000", own.HeartbeatIntervalMillis, other.HeartbeatIntervalMillis)
	}
	// Neither member heartbeats again: the group's 2 s session ends its
	// member long before the broker's 45 s would.
	began := time.Now()
	describeConsumerGroup(t, n.Addr, "gcfg-own", func(d kmsg.ConsumerGroupDescribeResponseGroup) bool { return len(d.Members) == 0 })
	if took := time.Since(began); took > 30*time.Second {
		t.Fatalf("the member left after %v, not after the group's 2 s session timeout", took)
	}
	if d := describeConsumerGroup(t, n.Addr, "gcfg-other", func(kmsg.ConsumerGroupDescribeResponseGroup) bool { return true }); len(d.Members) != 1 {
		t.Fatalf("the other group has %d members, want its member kept for the broker's 45 s", len(d.Members))
	}

	// Deleting the group's key gives the broker's value back.
	if code := alterGroupConfigs(t, cl, "gcfg-own", map[string]*string{"consumer.heartbeat.interval.ms": nil}); code != 0 {
		t.Fatalf("delete group config: %v", kerr.ErrorForCode(code))
	}
	if again := joinConsumerGroup(t, cl, "gcfg-own", "m-own-2", "gcfg"); again.HeartbeatIntervalMillis != 5000 {
		t.Fatalf("heartbeat interval %d after the group's key was deleted, want the broker's 5000", again.HeartbeatIntervalMillis)
	}

	// spool config sets, describes and deletes them too.
	if out, exit := harness.Run(t, "config", "set", "--group", "gcfg-cli", "consumer.session.timeout.ms=50000", "--bootstrap-server", n.Addr); exit != 0 || !strings.Contains(out, "Updated group gcfg-cli") {
		t.Fatalf("config set --group (exit %d):\n%s", exit, out)
	}
	if out, exit := harness.Run(t, "config", "describe", "--group", "gcfg-cli", "--bootstrap-server", n.Addr); exit != 0 || !regexp.MustCompile(`consumer\.session\.timeout\.ms +50000 +GROUP_CONFIG`).MatchString(out) {
		t.Fatalf("config describe --group (exit %d):\n%s", exit, out)
	}
	// They are in the metadata log: a restarted node still has them.
	if err := n.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	n.Start()
	if out, exit := harness.Run(t, "config", "describe", "--group", "gcfg-cli", "--bootstrap-server", n.Addr); exit != 0 || !regexp.MustCompile(`consumer\.session\.timeout\.ms +50000 +GROUP_CONFIG`).MatchString(out) {
		t.Fatalf("config describe --group after a restart (exit %d):\n%s", exit, out)
	}
	if out, exit := harness.Run(t, "config", "set", "--group", "gcfg-cli", "consumer.session.timeout.ms=500", "--bootstrap-server", n.Addr); exit == 0 || !strings.Contains(out, "must be in the range") {
		t.Fatalf("config set --group out of range (exit %d):\n%s", exit, out)
	}
	if out, exit := harness.Run(t, "config", "delete", "--group", "gcfg-cli", "consumer.session.timeout.ms", "--bootstrap-server", n.Addr); exit != 0 {
		t.Fatalf("config delete --group (exit %d):\n%s", exit, out)
	}
	if out, exit := harness.Run(t, "config", "describe", "--group", "gcfg-cli", "--all", "--bootstrap-server", n.Addr); exit != 0 || !regexp.MustCompile(`consumer\.session\.timeout\.ms +45000 +DEFAULT_CONFIG`).MatchString(out) {
		t.Fatalf("config describe --group --all after delete (exit %d):\n%s", exit, out)
	}
}
