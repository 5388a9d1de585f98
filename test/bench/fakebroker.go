package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// fakeBrokers register with the controllers and heartbeat like brokers do,
// but host nothing and never create a file: the controllers place
// partitions on them, which lets one machine measure the controller side
// of a cluster far larger than it could hold on disk.
type fakeBrokers struct {
	ctrls     []string // controller listener addresses
	clusterID string
	ids       []int32

	mu     sync.Mutex
	epochs map[int32]int64
	active string // the controller that last answered without NOT_CONTROLLER
	stop   chan struct{}
	done   chan struct{}
}

func newFakeBrokers(ctrls []string, clusterID string, ids ...int32) *fakeBrokers {
	return &fakeBrokers{ctrls: ctrls, clusterID: clusterID, ids: ids, epochs: map[int32]int64{},
		stop: make(chan struct{}), done: make(chan struct{})}
}

// request sends req to the active controller, finding it when it moved.
func (f *fakeBrokers) request(req kmsg.Request) (kmsg.Response, error) {
	f.mu.Lock()
	first := f.active
	f.mu.Unlock()
	order := append([]string{first}, f.ctrls...)
	var lastErr error
	for _, addr := range order {
		if addr == "" {
			continue
		}
		resp, err := harness.Request(addr, req, 5*time.Second)
		if err != nil {
			lastErr = err
			continue
		}
		if code := errorCodeOf(resp); code == kerr.NotController.Code {
			lastErr = kerr.NotController
			continue
		}
		f.mu.Lock()
		f.active = addr
		f.mu.Unlock()
		return resp, nil
	}
	return nil, lastErr
}

func errorCodeOf(resp kmsg.Response) int16 {
	switch r := resp.(type) {
	case *kmsg.BrokerRegistrationResponse:
		return r.ErrorCode
	case *kmsg.BrokerHeartbeatResponse:
		return r.ErrorCode
	case *kmsg.CreateTopicsResponse:
		for _, t := range r.Topics {
			if t.ErrorCode != 0 {
				return t.ErrorCode
			}
		}
	}
	return 0
}

// start registers every fake broker, then heartbeats each every interval
// until close; it returns once all are unfenced.
func (f *fakeBrokers) start(ctx context.Context, interval time.Duration) error {
	for _, id := range f.ids {
		req := kmsg.NewPtrBrokerRegistrationRequest()
		req.SetVersion(4)
		req.BrokerID = id
		req.ClusterID = f.clusterID
		rand.Read(req.IncarnationID[:])
		var dir [16]byte
		rand.Read(dir[:])
		req.LogDirs = [][16]byte{dir}
		req.PreviousBrokerEpoch = -1
		ln := kmsg.NewBrokerRegistrationRequestListener()
		// Nothing listens there: no client or broker is sent to them.
		ln.Name, ln.Host, ln.Port, ln.SecurityProtocol = "PLAINTEXT", "127.0.0.1", uint16(1+id), 0
		req.Listeners = append(req.Listeners, ln)
		feat := kmsg.NewBrokerRegistrationRequestFeature()
		feat.Name, feat.MinSupportedVersion, feat.MaxSupportedVersion = "metadata.version", 7, 25
		req.Features = append(req.Features, feat)
		for {
			resp, err := f.request(req)
			if err == nil {
				r := resp.(*kmsg.BrokerRegistrationResponse)
				if r.ErrorCode == 0 {
					f.epochs[id] = r.BrokerEpoch
					break
				}
				err = kerr.ErrorForCode(r.ErrorCode)
			}
			if ctx.Err() != nil {
				return fmt.Errorf("register fake broker %d: %w", id, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	unfenced := make(chan struct{})
	go f.heartbeat(interval, unfenced)
	select {
	case <-unfenced:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("fake brokers not unfenced: %w", ctx.Err())
	}
}

func (f *fakeBrokers) heartbeat(interval time.Duration, unfenced chan struct{}) {
	defer close(f.done)
	fenced := map[int32]bool{}
	for _, id := range f.ids {
		fenced[id] = true
	}
	signalled := false
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		offset := f.metadataOffset()
		for _, id := range f.ids {
			req := kmsg.NewPtrBrokerHeartbeatRequest()
			req.SetVersion(1)
			req.BrokerID, req.BrokerEpoch = id, f.epochs[id]
			req.CurrentMetadataOffset = offset
			if resp, err := f.request(req); err == nil {
				r := resp.(*kmsg.BrokerHeartbeatResponse)
				if r.ErrorCode == 0 {
					fenced[id] = r.IsFenced
				}
			}
		}
		if !signalled {
			all := true
			for _, fz := range fenced {
				all = all && !fz
			}
			if all {
				close(unfenced)
				signalled = true
			}
		}
		select {
		case <-f.stop:
			return
		case <-tick.C:
		}
	}
}

// metadataOffset is the quorum's high watermark, which a caught-up broker
// would have applied.
func (f *fakeBrokers) metadataOffset() int64 {
	req := kmsg.NewPtrDescribeQuorumRequest()
	req.SetVersion(1)
	rt := kmsg.NewDescribeQuorumRequestTopic()
	rt.Topic = "__cluster_metadata"
	rt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{kmsg.NewDescribeQuorumRequestTopicPartition()}
	req.Topics = append(req.Topics, rt)
	for _, addr := range f.ctrls {
		raw, err := harness.Request(addr, req, 2*time.Second)
		if err != nil {
			continue
		}
		resp := raw.(*kmsg.DescribeQuorumResponse)
		if len(resp.Topics) == 1 && len(resp.Topics[0].Partitions) == 1 && resp.Topics[0].Partitions[0].ErrorCode == 0 {
			return resp.Topics[0].Partitions[0].HighWatermark
		}
	}
	return 0
}

func (f *fakeBrokers) close() {
	close(f.stop)
	<-f.done
}
