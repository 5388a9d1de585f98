package test

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// setGroupConfigs sets a group's configs (IncrementalAlterConfigs,
// resource type GROUP) and returns the answer's error code.
func setGroupConfigs(t *testing.T, addr, group string, kv map[string]string) int16 {
	t.Helper()
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	req.SetVersion(1)
	res := kmsg.NewIncrementalAlterConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceType(32), group
	for k, v := range kv {
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		c.Name, c.Value = k, kmsg.StringPtr(v)
		res.Configs = append(res.Configs, c)
	}
	req.Resources = append(req.Resources, res)
	raw, err := harness.Request(addr, req, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(*kmsg.IncrementalAlterConfigsResponse).Resources[0].ErrorCode
}

// TestShareGroupConfigs: a share group's own configs apply to it:
// share.auto.offset.reset=earliest delivers records produced before the
// group existed, share.delivery.count.limit bounds redelivery, and values
// Kafka would refuse are refused.
func TestShareGroupConfigs(t *testing.T) {
	t.Parallel()
	n := shareNode(t, nil)
	grpTopic(t, n.Addr, "sc", 1)
	grpProduce(t, n.Addr, "sc", 30)
	if code := setGroupConfigs(t, n.Addr, "sg-early", map[string]string{"share.auto.offset.reset": "earliest"}); code != 0 {
		t.Fatalf("share.auto.offset.reset=earliest: %v", kerr.ErrorForCode(code))
	}
	if code := setGroupConfigs(t, n.Addr, "sg-twice", map[string]string{"share.auto.offset.reset": "by_duration:PT1H", "share.delivery.count.limit": "2"}); code != 0 {
		t.Fatalf("by_duration and delivery limit: %v", kerr.ErrorForCode(code))
	}
	for k, v := range map[string]string{"share.auto.offset.reset": "sometimes", "share.delivery.count.limit": "11", "share.record.lock.duration.ms": "999"} {
		if code := setGroupConfigs(t, n.Addr, "sg-bad", map[string]string{k: v}); code != kerr.InvalidConfig.Code {
			t.Fatalf("%s=%s: %v, want INVALID_CONFIG", k, v, kerr.ErrorForCode(code))
		}
	}

	early := startShareConsumer(t, n.Addr, "sg-early", "sc", "accept", 4*time.Second)
	twice := startShareConsumer(t, n.Addr, "sg-twice", "sc", "release", 4*time.Second)
	waitShare(t, early.done, 2*time.Minute, "the earliest group's consumer")
	waitShare(t, twice.done, 2*time.Minute, "the releasing consumer")
	if got := len(distinctValues(early.records())); got != 30 {
		t.Fatalf("the earliest group got %d of the 30 records produced before it", got)
	}
	for v, c := range distinctValues(twice.records()) {
		if c != 2 {
			t.Fatalf("value %s delivered %d times with share.delivery.count.limit=2", v, c)
		}
	}
	if got := len(distinctValues(twice.records())); got != 30 {
		t.Fatalf("the by_duration group got %d of the 30 records of the last hour", got)
	}
	checkShareOffsets(t, n.Addr, "sg-twice", "sc", []int64{30})
}
