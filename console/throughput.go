package console

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Traffic are a broker's totals since it started.
type Traffic struct {
	BytesIn   int64 `json:"bytes_in"`
	RecordsIn int64 `json:"records_in"`
	BytesOut  int64 `json:"bytes_out"`
}

// sample is one reading of the totals.
type sample struct {
	UnixMilli int64 `json:"t"`
	Traffic
}

// meter keeps the last readings of the broker's totals, so a page opened
// now draws the last few minutes at once. It reads only when asked, at
// most once per interval: nobody watching costs nothing, and many pages
// watching cost one reading.
type meter struct {
	read func() Traffic
	now  func() time.Time
	mu   sync.Mutex
	ring []sample
}

const (
	meterInterval = 2 * time.Second
	meterKeep     = 180 // six minutes at meterInterval
)

func newMeter(read func() Traffic, now func() time.Time) *meter {
	return &meter{read: read, now: now}
}

// samples reads the totals if the last reading is older than the
// interval, and returns every kept reading, oldest first.
func (m *meter) samples() []sample {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if n := len(m.ring); n == 0 || now.Sub(time.UnixMilli(m.ring[n-1].UnixMilli)) >= meterInterval {
		m.ring = append(m.ring, sample{UnixMilli: now.UnixMilli(), Traffic: m.read()})
		if len(m.ring) > meterKeep {
			m.ring = append(m.ring[:0], m.ring[len(m.ring)-meterKeep:]...)
		}
	}
	return append([]sample(nil), m.ring...)
}

type throughputView struct {
	NodeID  int32    `json:"node_id"`
	Samples []sample `json:"samples"`
}

// throughput answers GET /v1/throughput: this broker's produced and
// fetched totals over the last minutes; the page draws their rates.
func (c *Console) throughput(context.Context, *http.Request) (any, error) {
	if c.src.Traffic == nil {
		return nil, errNoBroker
	}
	return throughputView{NodeID: c.src.NodeID, Samples: c.meter.samples()}, nil
}
