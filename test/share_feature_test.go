package test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// TestShareVersionFeature: a new cluster finalizes share.version 1 and
// advertises 0-1; downgraded to 0 (UpdateFeatures), share-group requests
// are refused with UNSUPPORTED_VERSION; `spool features upgrade` turns
// them back on.
func TestShareVersionFeature(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, map[string]string{"offsets.topic.num.partitions": "1"})
	n.Start()
	supported, finalized := shareVersionOf(t, n.Addr)
	if supported != "0-1" || finalized != 1 {
		t.Fatalf("share.version: supported %q, finalized %d; want 0-1 and 1", supported, finalized)
	}
	waitCoordinator(t, n.Addr, "sgf")
	if code := shareJoin(t, n.Addr, "sgf"); code != 0 {
		t.Fatalf("join with share.version 1: %v", kerr.ErrorForCode(code))
	}

	req := kmsg.NewPtrUpdateFeaturesRequest()
	req.SetVersion(1)
	req.TimeoutMillis = 10000
	u := kmsg.NewUpdateFeaturesRequestFeatureUpdate()
	u.Feature, u.MaxVersionLevel, u.UpgradeType = "share.version", 0, 2
	req.FeatureUpdates = append(req.FeatureUpdates, u)
	raw, err := harness.Request(n.Addr, req, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if resp := raw.(*kmsg.UpdateFeaturesResponse); resp.ErrorCode != 0 || len(resp.Results) != 1 || resp.Results[0].ErrorCode != 0 {
		t.Fatalf("downgrade share.version: %+v", resp)
	}
	waitShareJoin(t, n.Addr, "sgf", kerr.UnsupportedVersion.Code)

	if out, code := harness.Run(t, "features", "upgrade", "--feature", "share.version=1", "--bootstrap-server", n.Addr); code != 0 || !strings.Contains(out, "share.version is finalized at 1.") {
		t.Fatalf("features upgrade share.version=1: exit %d\n%s", code, out)
	}
	waitShareJoin(t, n.Addr, "sgf", 0)
}

// shareVersionOf reads share.version from ApiVersions v4.
func shareVersionOf(t *testing.T, addr string) (supported string, finalized int16) {
	t.Helper()
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(4)
	req.ClientSoftwareName, req.ClientSoftwareVersion = "spool-test", "1"
	raw, err := harness.Request(addr, req, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	resp := raw.(*kmsg.ApiVersionsResponse)
	for _, f := range resp.SupportedFeatures {
		if f.Name == "share.version" {
			supported = fmt.Sprintf("%d-%d", f.MinVersion, f.MaxVersion)
		}
	}
	for _, f := range resp.FinalizedFeatures {
		if f.Name == "share.version" {
			finalized = f.MaxVersionLevel
		}
	}
	return supported, finalized
}

// waitCoordinator asks FindCoordinator until the group's coordinator
// (and __consumer_offsets) is there.
func waitCoordinator(t *testing.T, addr, group string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.SetVersion(3)
		req.CoordinatorKey = group
		raw, err := harness.Request(addr, req, 10*time.Second)
		if err == nil && raw.(*kmsg.FindCoordinatorResponse).ErrorCode == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no coordinator for %s: %v", group, err)
		}
	}
}

// shareJoin sends a joining ShareGroupHeartbeat and returns its error code,
// retrying while the coordinator loads.
func shareJoin(t *testing.T, addr, group string) int16 {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		req := kmsg.NewPtrShareGroupHeartbeatRequest()
		req.SetVersion(1)
		req.GroupID, req.MemberID, req.SubscribedTopicNames = group, "c2hhcmUtZmVhdHVyZS0wMQ", []string{"any"}
		raw, err := harness.Request(addr, req, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		code := raw.(*kmsg.ShareGroupHeartbeatResponse).ErrorCode
		if code != kerr.CoordinatorLoadInProgress.Code && code != kerr.NotCoordinator.Code || time.Now().After(deadline) {
			return code
		}
	}
}

// waitShareJoin waits until a join answers want: feature changes reach
// the broker through the metadata log.
func waitShareJoin(t *testing.T, addr, group string, want int16) {
	t.Helper()
	var got int16
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got = shareJoin(t, addr, group); got == want {
			return
		}
	}
	t.Fatalf("join answers %v, want %v", kerr.ErrorForCode(got), kerr.ErrorForCode(want))
}
