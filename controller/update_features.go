package controller

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/protocol"
)

// controllerFeatures are the feature levels this controller can finalize:
// metadata.version up to the level whose records it writes,
// transaction.version 0 (the brokers implement no later one), and
// share.version 1 (KIP-932 share groups on).
var controllerFeatures = map[string]metadata.FeatureRange{
	metadata.MetadataVersionFeature: {Min: 7, Max: MetadataVersion},
	"transaction.version":           {Min: 0, Max: 0},
	ShareVersionFeature:             {Min: 0, Max: 1},
}

// Kafka's UpdateFeatures upgrade types (v1+).
const (
	featureUpgrade         int8 = 1
	featureSafeDowngrade   int8 = 2
	featureUnsafeDowngrade int8 = 3
)

// UpdateFeatures finalizes feature levels (KIP-584, KIP-778): each level
// must be one this controller and every registered broker support;
// lowering a level needs a downgrade type, and metadata.version is never
// lowered, since records written at the higher level could not be read.
func (c *Controller) UpdateFeatures(ctx context.Context, req *kmsg.UpdateFeaturesRequest) *kmsg.UpdateFeaturesResponse {
	resp := req.ResponseKind().(*kmsg.UpdateFeaturesResponse)
	var firstErr *topicError
	err := c.write(ctx, func(img *metadata.Image) ([]metadata.Record, error) {
		resp.Results, firstErr = resp.Results[:0], nil
		var recs []metadata.Record
		for _, u := range req.FeatureUpdates {
			r := kmsg.NewUpdateFeaturesResponseResult()
			r.Feature = u.Feature
			typ := u.UpgradeType
			if req.Version == 0 {
				typ = featureUpgrade
				if u.AllowDowngrade {
					typ = featureSafeDowngrade
				}
			}
			rec, e := featureChange(img, u.Feature, u.MaxVersionLevel, typ)
			if e != nil {
				r.ErrorCode, r.ErrorMessage = e.err.Code, &e.msg
				if firstErr == nil {
					firstErr = e
				}
			} else if rec != nil && !req.ValidateOnly {
				recs = append(recs, rec)
			}
			resp.Results = append(resp.Results, r)
		}
		if firstErr != nil {
			return nil, nil // all or nothing, as Kafka applies them
		}
		return recs, nil
	})
	switch {
	case err != nil:
		resp.ErrorCode = errorCode(err)
	case firstErr != nil && req.Version >= 2:
		resp.ErrorCode, resp.ErrorMessage = firstErr.err.Code, &firstErr.msg
	}
	return resp
}

// featureChange checks one update and returns its record (nil if the level
// is already finalized).
func featureChange(img *metadata.Image, name string, level int16, typ int8) (metadata.Record, *topicError) {
	if typ < featureUpgrade || typ > featureUnsafeDowngrade {
		return nil, errf(kerr.InvalidRequest, "Unknown upgrade type %d for feature %s.", typ, name)
	}
	own, ok := controllerFeatures[name]
	if !ok {
		return nil, errf(kerr.InvalidUpdateVersion, "Invalid update version %d for feature %s. The controller does not support this feature.", level, name)
	}
	current := img.Features[name]
	switch {
	case level == current:
		return nil, nil
	case level < current && name == metadata.MetadataVersionFeature:
		return nil, errf(kerr.InvalidUpdateVersion, "Invalid metadata.version %d. Downgrading metadata.version from %d is not supported: records written at the current level could not be read.", level, current)
	case level < current && typ == featureUpgrade:
		return nil, errf(kerr.InvalidUpdateVersion, "Invalid update version %d for feature %s. Can't downgrade the version of this feature without setting the upgrade type to either safe or unsafe downgrade.", level, name)
	case level > current && typ != featureUpgrade:
		return nil, errf(kerr.InvalidUpdateVersion, "Invalid update version %d for feature %s. A downgrade type was given, but %d is above the current level %d.", level, name, level, current)
	case level < own.Min && level != 0 || level > own.Max:
		return nil, errf(kerr.InvalidUpdateVersion, "Invalid update version %d for feature %s. The controller supports levels %d to %d.", level, name, own.Min, own.Max)
	}
	for id, b := range img.Brokers {
		r, ok := b.Features[name]
		if level > 0 && (!ok || level < r.Min || level > r.Max) {
			return nil, errf(kerr.InvalidUpdateVersion, "Invalid update version %d for feature %s. Broker %d does not support this level.", level, name, id)
		}
	}
	return &metadata.FeatureLevelRecord{Name: name, FeatureLevel: level}, nil
}

func (c *Controller) serveUpdateFeatures(ctx context.Context, req *protocol.Request) protocol.Response {
	return protocol.Msg(c.UpdateFeatures(ctx, req.Msg.(*kmsg.UpdateFeaturesRequest)))
}
