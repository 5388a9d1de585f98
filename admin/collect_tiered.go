package admin

import (
	"github.com/prometheus/client_golang/prometheus"

	"spool/broker"
)

// The remote tier's metrics, named after Kafka's RemoteLogManager and
// RemoteStorage beans where they exist.
var (
	tieredCopyBytes     = counter("spool_remote_copy_bytes_total", "Bytes uploaded to the object store (Kafka's RemoteCopyBytesPerSec).")
	tieredFetchBytes    = counter("spool_remote_fetch_bytes_total", "Bytes read from the object store (Kafka's RemoteFetchBytesPerSec).")
	tieredCopied        = counter("spool_remote_segments_copied_total", "Segments copied to the object store (Kafka's RemoteCopyRequestsPerSec).")
	tieredDeleted       = counter("spool_remote_segments_deleted_total", "Remote segments deleted by retention (Kafka's RemoteDeleteRequestsPerSec).")
	tieredCopyErrors    = counter("spool_remote_copy_errors_total", "Partition copy runs that failed; while they fail, local segments stay (Kafka's FailedRemoteCopyRequestsPerSec).")
	tieredReadErrors    = counter("spool_remote_fetch_errors_total", "Remote reads that failed (Kafka's FailedRemoteFetchRequestsPerSec).")
	tieredCacheHits     = counter("spool_remote_cache_hits_total", "Remote chunk and index reads served from the cache.")
	tieredCacheMisses   = counter("spool_remote_cache_misses_total", "Remote chunk and index reads that went to the object store.")
	tieredCacheBytes    = gauge("spool_remote_cache_bytes", "Bytes held in the remote chunk cache.")
	tieredLocalDeleted  = counter("spool_remote_local_segments_deleted_total", "Local segments deleted because they were copied and past local retention.")
	tieredLagBytes      = gauge("spool_remote_copy_lag_bytes", "Bytes of closed segments not yet copied, on tiered partitions this broker leads (Kafka's RemoteCopyLagBytes).")
	tieredLagSegments   = gauge("spool_remote_copy_lag_segments", "Closed segments not yet copied, on tiered partitions this broker leads (Kafka's RemoteCopyLagSegments).")
	tieredRemoteBytes   = gauge("spool_remote_log_size_bytes", "Bytes in the object store for the tiered partitions this broker leads (Kafka's RemoteLogSizeBytes).")
	tieredRemoteSegment = gauge("spool_remote_log_segments", "Remote segments of the tiered partitions this broker leads.")
)

var tieredFamilies = []family{
	tieredCopyBytes, tieredFetchBytes, tieredCopied, tieredDeleted, tieredCopyErrors, tieredReadErrors,
	tieredCacheHits, tieredCacheMisses, tieredCacheBytes, tieredLocalDeleted, tieredLagBytes, tieredLagSegments,
	tieredRemoteBytes, tieredRemoteSegment,
}

func collectTiered(ch chan<- prometheus.Metric, s *broker.TieredStats) {
	if s == nil {
		return
	}
	for _, m := range []struct {
		f family
		v int64
	}{
		{tieredCopyBytes, s.BytesUploaded}, {tieredFetchBytes, s.BytesFetched}, {tieredCopied, s.SegmentsCopied},
		{tieredDeleted, s.SegmentsDeleted}, {tieredCopyErrors, s.CopyErrors}, {tieredReadErrors, s.ReadErrors},
		{tieredCacheHits, s.CacheHits}, {tieredCacheMisses, s.CacheMisses}, {tieredCacheBytes, s.CacheBytes},
		{tieredLocalDeleted, s.LocalSegmentsDeleted}, {tieredLagBytes, s.UploadLagBytes},
		{tieredLagSegments, s.UploadLagSegments}, {tieredRemoteBytes, s.RemoteBytes}, {tieredRemoteSegment, s.RemoteSegments},
	} {
		m.f.emit(ch, float64(m.v))
	}
}
