package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

// apiVersionFeatures fills the feature fields of ApiVersions v3+: the
// features this broker supports and the finalized levels from the image.
func (b *Broker) apiVersionFeatures(resp *kmsg.ApiVersionsResponse) {
	sf := kmsg.NewApiVersionsResponseSupportedFeature()
	sf.Name, sf.MinVersion, sf.MaxVersion = metadata.MetadataVersionFeature, 7, metadataVersionMax
	resp.SupportedFeatures = append(resp.SupportedFeatures, sf)
	img := b.Image()
	resp.FinalizedFeaturesEpoch = img.Offset
	for name, level := range img.Features {
		ff := kmsg.NewApiVersionsResponseFinalizedFeature()
		ff.Name, ff.MinVersionLevel, ff.MaxVersionLevel = name, level, level
		resp.FinalizedFeatures = append(resp.FinalizedFeatures, ff)
	}
}
