package clients_test

import (
	"context"
	"time"
)

var toolFeatures = &check{
	name:    "kafka-features",
	family:  "Kafka tools",
	what:    "describe (metadata.version finalized at 4.0-IV3), upgrade metadata.version to the current level, a refused downgrade",
	timeout: 2 * time.Minute,
	run:     runToolFeatures,
}

func runToolFeatures(ctx context.Context, k *checkCell) error {
	bs := k.bootstrap()
	out, err := k.tool(ctx, "", "kafka-features", "--bootstrap-server", bs, "describe")
	if err != nil {
		return err
	}
	if err := expect("describe", out, `Feature: metadata.version\s+SupportedMinVersion: \S+\s+SupportedMaxVersion: 4.0-IV3\s+FinalizedVersionLevel: 4.0-IV3`); err != nil {
		return err
	}
	out, err = k.tool(ctx, "", "kafka-features", "--bootstrap-server", bs, "upgrade", "--feature", "metadata.version=25")
	if err != nil {
		return err
	}
	if err := expect("upgrade to the current level", out, `metadata.version was upgraded to 25`); err != nil {
		return err
	}
	out, err = k.toolFails(ctx, "kafka-features", "--bootstrap-server", bs, "downgrade", "--feature", "metadata.version=21")
	if err != nil {
		// The tool reports a refused update and exits 1.
		return err
	}
	return expect("a refused downgrade", out, `Could not downgrade metadata.version to 21`)
}
