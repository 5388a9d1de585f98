package test

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// Finalized features through the CLI and UpdateFeatures: metadata.version
// is finalized at 25, re-finalizing it is a no-op, levels nobody supports
// and metadata.version downgrades are refused with INVALID_UPDATE_VERSION.
func TestFeaturesDescribeAndUpgrade(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, nil)
	n.Start()
	out, code := harness.Run(t, "features", "describe", "--bootstrap-server", n.Addr)
	if code != 0 || !strings.Contains(out, "metadata.version") || !strings.Contains(out, "7-25") {
		t.Fatalf("features describe: exit %d\n%s", code, out)
	}
	if out, code := harness.Run(t, "features", "upgrade", "--feature", "metadata.version=25", "--bootstrap-server", n.Addr); code != 0 || !strings.Contains(out, "metadata.version is finalized at 25.") {
		t.Fatalf("features upgrade to the current level: exit %d\n%s", code, out)
	}
	if out, code := harness.Run(t, "features", "upgrade", "--feature", "transaction.version=2", "--bootstrap-server", n.Addr); code == 0 || !strings.Contains(out, "INVALID_UPDATE_VERSION") {
		t.Fatalf("features upgrade to an unsupported level: exit %d\n%s", code, out)
	}
	req := kmsg.NewPtrUpdateFeaturesRequest()
	req.SetVersion(1)
	req.TimeoutMillis = 10000
	u := kmsg.NewUpdateFeaturesRequestFeatureUpdate()
	u.Feature, u.MaxVersionLevel, u.UpgradeType = "metadata.version", 21, 2
	req.FeatureUpdates = append(req.FeatureUpdates, u)
	raw, err := harness.Request(n.Addr, req, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	resp := raw.(*kmsg.UpdateFeaturesResponse)
	if len(resp.Results) != 1 || resp.Results[0].ErrorCode != kerr.InvalidUpdateVersion.Code {
		t.Fatalf("metadata.version downgrade: %+v", resp)
	}
	out, _ = harness.Run(t, "features", "describe", "--bootstrap-server", n.Addr, "--format", "json")
	if compact := strings.Join(strings.Fields(out), ""); !strings.Contains(compact, `"name":"metadata.version","supported_min":7,"supported_max":25,"finalized":25`) {
		t.Fatalf("metadata.version changed:\n%s", out)
	}
}
