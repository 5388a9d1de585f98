package admin

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"spool/broker"
)

// brokerCollector exports the broker's Stats.
type brokerCollector struct{ b *broker.Broker }

var (
	brokerRegistered = gauge("spool_broker_registered", "1 once the controller accepted this broker's registration.")
	brokerFenced     = gauge("spool_broker_fenced", "1 while the metadata image fences this broker.")
	brokerServing    = gauge("spool_broker_serving", "1 once the broker serves clients (first unfenced).")
	metaOffset       = gauge("spool_broker_metadata_offset", "Offset of the last metadata record applied to the broker's image.")
	metaLag          = gauge("spool_broker_metadata_apply_lag", "Metadata records the controller had committed at the last fetch and the broker has not yet applied.")
	metaFetchAge     = gauge("spool_broker_metadata_fetch_age_seconds", "Seconds since the controller last answered a metadata fetch.")

	partitionsHosted  = gauge("spool_partitions", "Partition replicas this broker hosts (Kafka's PartitionCount).")
	partitionsLed     = gauge("spool_leader_partitions", "Partitions this broker leads (Kafka's LeaderCount).")
	underReplicated   = gauge("spool_under_replicated_partitions", "Partitions this broker leads whose ISR is smaller than their replica set (Kafka's UnderReplicatedPartitions).")
	underMinISR       = gauge("spool_under_min_isr_partitions", "Partitions this broker leads whose ISR is below min.insync.replicas: acks=all produce fails (Kafka's UnderMinIsrPartitionCount).")
	atMinISR          = gauge("spool_at_min_isr_partitions", "Partitions this broker leads whose ISR is exactly min.insync.replicas (Kafka's AtMinIsrPartitionCount).")
	isrShrinks        = counter("spool_isr_shrinks_total", "ISR shrinks of partitions this broker leads (Kafka's IsrShrinksPerSec).")
	isrExpands        = counter("spool_isr_expands_total", "ISR expansions of partitions this broker leads (Kafka's IsrExpandsPerSec).")
	logSize           = gauge("spool_log_size_bytes", "Bytes of the topic's logs on this broker, every hosted replica (Kafka's Log Size).", "topic")
	logSegments       = gauge("spool_log_segments", "Segments of the topic's logs on this broker (Kafka's NumLogSegments).", "topic")
	logReplicas       = gauge("spool_log_replicas", "Replicas of the topic this broker hosts.", "topic")
	logFlush          = histogram("spool_log_flush_duration_seconds", "Time to flush a partition log to disk (Kafka's LogFlushRateAndTimeMs).")
	bytesIn           = counter("spool_topic_bytes_in_total", "Record bytes produced to the topic and appended (Kafka's BytesInPerSec).", "topic")
	recordsIn         = counter("spool_topic_records_in_total", "Records produced to the topic and appended (Kafka's MessagesInPerSec).", "topic")
	bytesOut          = counter("spool_topic_bytes_out_total", "Record bytes fetched from the topic by consumers (Kafka's BytesOutPerSec).", "topic")
	bytesRejected     = counter("spool_topic_bytes_rejected_total", "Record bytes of produce requests refused for the topic (Kafka's BytesRejectedPerSec).", "topic")
	produceRequests   = counter("spool_topic_produce_requests_total", "Partitions of produce requests for the topic (Kafka's TotalProduceRequestsPerSec).", "topic")
	fetchRequests     = counter("spool_topic_fetch_requests_total", "Partitions of consumer fetch responses for the topic (Kafka's TotalFetchRequestsPerSec).", "topic")
	failedProduce     = counter("spool_topic_failed_produce_requests_total", "Partitions of produce requests for the topic answered with an error (Kafka's FailedProduceRequestsPerSec).", "topic")
	failedFetch       = counter("spool_topic_failed_fetch_requests_total", "Partitions of consumer fetches for the topic answered with an error (Kafka's FailedFetchRequestsPerSec).", "topic")
	groupsByState     = gauge("spool_groups", "Groups this broker coordinates, by state: classic (Empty, PreparingRebalance, CompletingRebalance, Stable) and KIP-848 consumer groups (Empty, Assigning, Reconciling, Stable); Kafka's NumGroups<State>.", "state")
	rebalances        = counter("spool_group_rebalances_total", "Rebalances of the groups this broker coordinates: each new classic generation or consumer group epoch counts once.")
	groupLag          = gauge("spool_consumer_group_lag", "High watermark minus the group's committed offset, for partitions this broker both coordinates the group of and leads.", "group", "topic", "partition")
	groupLagSum       = gauge("spool_consumer_group_total_lag", "spool_consumer_group_lag summed per group.", "group")
	txnsByState       = gauge("spool_transactions", "Transactional ids this broker coordinates, by state.", "state")
	cleanerCleans     = counter("spool_log_cleaner_cleans_total", "Cleans of compacted logs that rewrote segments.")
	cleanerFailures   = counter("spool_log_cleaner_failures_total", "Cleans that failed (not counting those aborted by a segment change or shutdown).")
	cleanerBefore     = counter("spool_log_cleaner_read_bytes_total", "Bytes of the segments the cleaner rewrote.")
	cleanerAfter      = counter("spool_log_cleaner_written_bytes_total", "Bytes of the segments the cleaner wrote in their place.")
	cleanerDropped    = counter("spool_log_cleaner_records_dropped_total", "Records the cleaner removed.")
	cleanerSeconds    = counter("spool_log_cleaner_seconds_total", "Time spent cleaning.")
	cleanerDirtyRatio = gauge("spool_log_cleaner_max_dirty_ratio", "Highest dirty ratio over the compacted logs (Kafka's max-dirty-percent, as a ratio).")
	followerFetch     = counter("spool_follower_fetch_bytes_total", "Record bytes served to consumers from replicas this broker follows (KIP-392 follower fetching).")
	readRedirects     = counter("spool_preferred_read_replica_redirects_total", "Partitions of consumer fetches this broker, leading, answered with a preferred read replica in the consumer's rack instead of records.")
	cleanerCleanable  = gauge("spool_log_cleaner_cleanable_bytes", "Dirty bytes the cleaner may clean now, over every compacted log.")
)

var brokerFamilies = []family{
	brokerRegistered, brokerFenced, brokerServing, metaOffset, metaLag, metaFetchAge,
	partitionsHosted, partitionsLed, underReplicated, underMinISR, atMinISR, isrShrinks, isrExpands,
	logSize, logSegments, logReplicas, logFlush, bytesIn, recordsIn, bytesOut, bytesRejected,
	produceRequests, fetchRequests, failedProduce, failedFetch, groupsByState, rebalances, groupLag, groupLagSum, txnsByState,
	cleanerCleans, cleanerFailures, cleanerBefore, cleanerAfter, cleanerDropped, cleanerSeconds, cleanerDirtyRatio, cleanerCleanable,
	followerFetch, readRedirects,
}

func (c *brokerCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, brokerFamilies)
	describe(ch, tieredFamilies)
	describe(ch, shareFamilies)
}

func (c *brokerCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.b.Stats()
	brokerRegistered.emit(ch, boolValue(s.Registered))
	brokerFenced.emit(ch, boolValue(s.Fenced))
	brokerServing.emit(ch, boolValue(s.Serving))
	metaOffset.emit(ch, float64(s.MetadataOffset))
	metaLag.emit(ch, float64(max(s.MetadataHighWatermark-1-s.MetadataOffset, 0)))
	if !s.LastMetadataFetch.IsZero() {
		metaFetchAge.emit(ch, time.Since(s.LastMetadataFetch).Seconds())
	}
	partitionsHosted.emit(ch, float64(s.Partitions))
	partitionsLed.emit(ch, float64(s.Leaders))
	underReplicated.emit(ch, float64(s.UnderReplicated))
	underMinISR.emit(ch, float64(s.UnderMinISR))
	atMinISR.emit(ch, float64(s.AtMinISR))
	isrShrinks.emit(ch, float64(s.ISRShrinks))
	isrExpands.emit(ch, float64(s.ISRExpands))
	for _, t := range s.Topics {
		logSize.emit(ch, float64(t.Size), t.Topic)
		logSegments.emit(ch, float64(t.Segments), t.Topic)
		logReplicas.emit(ch, float64(t.Replicas), t.Topic)
	}
	if s.Flushes != nil {
		n, sum, buckets := s.Flushes.Snapshot()
		ch <- prometheus.MustNewConstHistogram(logFlush.desc, n, sum, buckets)
	}
	collectTraffic(ch, s.Traffic)
	collectGroups(ch, s)
	collectShare(ch, s.Share)
	cleanerCleans.emit(ch, float64(s.Cleaner.Cleans))
	cleanerFailures.emit(ch, float64(s.Cleaner.Failures))
	cleanerBefore.emit(ch, float64(s.Cleaner.BytesBefore))
	cleanerAfter.emit(ch, float64(s.Cleaner.BytesAfter))
	cleanerDropped.emit(ch, float64(s.Cleaner.RecordsDropped))
	cleanerSeconds.emit(ch, s.Cleaner.Seconds)
	cleanerDirtyRatio.emit(ch, s.Cleaner.MaxDirtyRatio)
	cleanerCleanable.emit(ch, float64(s.Cleaner.CleanableBytes))
	collectTiered(ch, s.Tiered)
	followerFetch.emit(ch, float64(s.FollowerFetchBytes))
	readRedirects.emit(ch, float64(s.PreferredReplicaRedirects))
}

func collectTraffic(ch chan<- prometheus.Metric, traffic []broker.TopicTraffic) {
	for _, t := range traffic {
		bytesIn.emit(ch, float64(t.BytesIn), t.Topic)
		recordsIn.emit(ch, float64(t.RecordsIn), t.Topic)
		bytesOut.emit(ch, float64(t.BytesOut), t.Topic)
		bytesRejected.emit(ch, float64(t.BytesRejected), t.Topic)
		produceRequests.emit(ch, float64(t.ProduceRequests), t.Topic)
		fetchRequests.emit(ch, float64(t.FetchRequests), t.Topic)
		failedProduce.emit(ch, float64(t.FailedProduce), t.Topic)
		failedFetch.emit(ch, float64(t.FailedFetch), t.Topic)
	}
}

// groupStates are the classic and KIP-848 consumer group states, always
// exported so a state with no group reads 0 instead of vanishing.
var groupStates = []string{"Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Assigning", "Reconciling"}

// txnStates are the states a listed transactional id can be in (Dead ones
// are not listed).
var txnStates = []string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "PrepareEpochFence"}

func collectGroups(ch chan<- prometheus.Metric, s broker.Stats) {
	for _, st := range groupStates {
		groupsByState.emit(ch, float64(s.GroupsByState[st]), st)
	}
	rebalances.emit(ch, float64(s.Rebalances))
	sums := map[string]int64{}
	for _, l := range s.Lag {
		groupLag.emit(ch, float64(l.Lag), l.Group, l.Topic, strconv.Itoa(int(l.Partition)))
		sums[l.Group] += l.Lag
	}
	for g, sum := range sums {
		groupLagSum.emit(ch, float64(sum), g)
	}
	if s.TxnsByState == nil {
		return // a transaction state partition is still loading
	}
	for _, st := range txnStates {
		txnsByState.emit(ch, float64(s.TxnsByState[st]), st)
	}
}
