package broker

import (
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

// transactionVersionMax is the highest transaction.version this broker
// implements: 0, the transaction protocol before KIP-890 part 2 (no epoch
// bump per transaction, EndTxn up to v4, AddPartitionsToTxn from clients,
// __transaction_state values v0). Level 1 would write flexible state
// records and level 2 would move clients to the new protocol; clients
// (franz-go, the Java client) switch only when a broker finalizes level 2,
// and librdkafka does not implement it at all.
const transactionVersionMax int16 = 0

// shareVersionFeature turns share groups (KIP-932) on from level 1; this
// broker implements that level.
const (
	shareVersionFeature       = "share.version"
	shareVersionMax     int16 = 1
)

// apiVersionFeatures fills the feature fields of ApiVersions v3+: the
// features this broker supports and the finalized levels from the image.
func (b *Broker) apiVersionFeatures(resp *kmsg.ApiVersionsResponse) {
	sf := kmsg.NewApiVersionsResponseSupportedFeature()
	sf.Name, sf.MinVersion, sf.MaxVersion = metadata.MetadataVersionFeature, 7, metadataVersionMax
	resp.SupportedFeatures = append(resp.SupportedFeatures, sf)
	if resp.Version >= 4 {
		// As Kafka does (KAFKA-17492), a feature whose lowest level is 0
		// is only listed from v4: older Java clients reject a range
		// starting at 0.
		sf := kmsg.NewApiVersionsResponseSupportedFeature()
		sf.Name, sf.MinVersion, sf.MaxVersion = "transaction.version", 0, transactionVersionMax
		resp.SupportedFeatures = append(resp.SupportedFeatures, sf)
		sf = kmsg.NewApiVersionsResponseSupportedFeature()
		sf.Name, sf.MinVersion, sf.MaxVersion = shareVersionFeature, 0, shareVersionMax
		resp.SupportedFeatures = append(resp.SupportedFeatures, sf)
	}
	img := b.Image()
	resp.FinalizedFeaturesEpoch = img.Offset
	for name, level := range img.Features {
		ff := kmsg.NewApiVersionsResponseFinalizedFeature()
		ff.Name, ff.MinVersionLevel, ff.MaxVersionLevel = name, level, level
		resp.FinalizedFeatures = append(resp.FinalizedFeatures, ff)
	}
	// metadata.version first, then by name: a stable answer.
	slices.SortFunc(resp.FinalizedFeatures, func(a, b kmsg.ApiVersionsResponseFinalizedFeature) int {
		am, bm := a.Name == metadata.MetadataVersionFeature, b.Name == metadata.MetadataVersionFeature
		if am != bm {
			if am {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
}
