//go:build linux

package main

import (
	"context"

	"spool/config"
	"spool/tiered"
)

// buildTier connects the remote tier when tiered storage is on and this
// node is a broker; a missing bucket or half a key pair is a configuration
// error. The bucket itself is not contacted here: an unreachable store
// delays uploads, it does not stop the broker.
func buildTier(static *config.Config, broker bool) (*tiered.Tier, error) {
	s, err := tiered.FromConfig(static)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	if !s.Enabled || !broker {
		return nil, nil
	}
	t, err := tiered.New(context.Background(), s)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return t, nil
}
