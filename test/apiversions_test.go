package test

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"spool/test/harness"
)

// kip896Min is Kafka 4.0's lowest advertised version of each API spool
// serves on its client listener (KIP-896 removed the older ones). Produce
// is the exception Kafka 4.0 makes too: advertised from v0 so that older
// librdkafka keeps compressing (KAFKA-18659), though v0-v2 get
// UNSUPPORTED_VERSION. OffsetForLeaderEpoch, DescribeConfigs and
// DescribeLogDirs also keep their v0 (and v1), which Kafka 4.0 dropped:
// serving them costs nothing and older admin tools still send them.
var kip896Min = map[int16]int16{
	0: 0, 1: 4, 2: 1, 3: 0, 8: 2, 9: 1, 10: 0, 11: 0, 12: 0, 13: 0, 14: 0, 15: 0, 16: 0,
	18: 0, 19: 2, 20: 1, 21: 0, 22: 0, 23: 0, 32: 0, 33: 0, 35: 0, 37: 0, 42: 0, 43: 0,
	44: 0, 47: 0, 60: 0, 61: 0,
	24: 0, 25: 0, 26: 0, 27: 1, 28: 0, 65: 0, 66: 0,
}

// preKIP890p2Max caps the transactional APIs whose newest version belongs
// to KIP-890 part 2 (an epoch bump per transaction, transaction.version
// 2), which spool does not implement: clients then keep the older
// protocol.
var preKIP890p2Max = map[int16]int16{26: 4, 28: 4}

// spoolPrivate is Spool's private keys on the client listener, advertised
// (v0 only) so the admin CLI sends them to Spool brokers alone.
var spoolPrivate = map[int16]bool{32002: true}

// The client listener's ApiVersions is exactly Kafka 4.0's table (maximums
// from kversion.V4_0_0, minimums per KIP-896) for the APIs spool serves,
// plus Spool's private keys.
func TestApiVersionsMatchKafka4(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, nil)
	n.Start()
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(3)
	req.ClientSoftwareName, req.ClientSoftwareVersion = "spool-test", "1"
	raw, err := harness.Request(n.Addr, req, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	resp := raw.(*kmsg.ApiVersionsResponse)
	kafka := kversion.V4_0_0()
	got := map[int16]kmsg.ApiVersionsResponseApiKey{}
	for _, k := range resp.ApiKeys {
		got[k.ApiKey] = k
	}
	for key, min := range kip896Min {
		k, ok := got[key]
		max, _ := kafka.LookupMaxKeyVersion(key)
		if m, ok := preKIP890p2Max[key]; ok {
			max = m
		}
		switch {
		case !ok:
			t.Errorf("%s (%d) is not advertised", kmsg.NameForKey(key), key)
		case k.MinVersion != min || k.MaxVersion != max:
			t.Errorf("%s: advertises v%d-v%d, Kafka 4.0 has v%d-v%d", kmsg.NameForKey(key), k.MinVersion, k.MaxVersion, min, max)
		}
	}
	for key, k := range got {
		if spoolPrivate[key] {
			if k.MinVersion != 0 || k.MaxVersion != 0 {
				t.Errorf("private key %d: advertises v%d-v%d, want v0", key, k.MinVersion, k.MaxVersion)
			}
			continue
		}
		if _, ok := kip896Min[key]; !ok {
			t.Errorf("%s (%d) is advertised but not in the expected table", kmsg.NameForKey(key), key)
		}
	}
	if resp.ErrorCode != 0 || len(resp.FinalizedFeatures) == 0 || resp.FinalizedFeatures[0].Name != "metadata.version" {
		t.Errorf("features: error %d finalized %+v", resp.ErrorCode, resp.FinalizedFeatures)
	}

	// The controller listener serves the KRaft APIs instead.
	raw, err = harness.Request(n.CtrlAddr, req, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ctrl := map[int16]bool{}
	for _, k := range raw.(*kmsg.ApiVersionsResponse).ApiKeys {
		ctrl[k.ApiKey] = true
	}
	for _, key := range []int16{1, 55, 56, 59, 62, 63, 67} {
		if !ctrl[key] {
			t.Errorf("controller listener lacks %s", kmsg.NameForKey(key))
		}
	}
	if ctrl[0] {
		t.Error("controller listener advertises Produce")
	}
}
