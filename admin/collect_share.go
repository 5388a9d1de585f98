package admin

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"spool/broker"
)

var (
	shareMembers    = gauge("spool_share_group_members", "Members of each share group this broker coordinates (KIP-932).", "group")
	shareLag        = gauge("spool_share_group_lag", "Records of the share-partition below the high watermark not yet acknowledged or archived, for partitions this broker leads.", "group", "topic", "partition")
	shareInFlight   = gauge("spool_share_records_acquired", "Records acquired by share group members and not yet acknowledged, released or expired, over every share-partition here.")
	shareDeliveries = counter("spool_share_deliveries_total", "Records handed to share group members, redeliveries included.")
	shareAcks       = counter("spool_share_acknowledgements_total", "Records acknowledged by share group members, by type (accept, release, reject, gap, renew).", "type")
	shareExpired    = counter("spool_share_lock_expiries_total", "Acquired records released because their acquisition lock ran out.")
)

var shareFamilies = []family{shareMembers, shareLag, shareInFlight, shareDeliveries, shareAcks, shareExpired}

func collectShare(ch chan<- prometheus.Metric, s broker.ShareStats) {
	for g, n := range s.Members {
		shareMembers.emit(ch, float64(n), g)
	}
	for _, l := range s.Lag {
		shareLag.emit(ch, float64(l.Lag), l.Group, l.Topic, strconv.Itoa(int(l.Partition)))
	}
	shareInFlight.emit(ch, float64(s.InFlight))
	shareDeliveries.emit(ch, float64(s.Deliveries))
	for typ, n := range s.Acks {
		shareAcks.emit(ch, float64(n), typ)
	}
	shareExpired.emit(ch, float64(s.Expired))
}
