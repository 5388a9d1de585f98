package tiered

import (
	"bytes"
	"sync/atomic"
)

// Stats count the remote tier's traffic for the metrics listener.
type Stats struct {
	BytesUploaded    atomic.Int64
	BytesFetched     atomic.Int64
	SegmentsCopied   atomic.Int64
	SegmentsDeleted  atomic.Int64
	CopyErrors       atomic.Int64
	ReadErrors       atomic.Int64
	CacheHits        atomic.Int64
	CacheMisses      atomic.Int64
	LocalSegsDeleted atomic.Int64
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
