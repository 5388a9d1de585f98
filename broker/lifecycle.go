package broker

import (
	"context"
	"crypto/rand"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/controller/metadata"
)

// metadataVersionMax is the highest metadata.version this broker speaks.
const metadataVersionMax int16 = 25

// lifecycle registers the broker with the controller and heartbeats, and
// tracks whether the controller has unfenced it.
type lifecycle struct {
	b           *Broker
	incarnation [16]byte
	epoch       atomic.Int64
	unfenced    chan struct{} // closed the first time the broker is unfenced
	fenced      bool
}

func newLifecycle(b *Broker) *lifecycle {
	l := &lifecycle{b: b, unfenced: make(chan struct{}), fenced: true}
	rand.Read(l.incarnation[:])
	return l
}

// register retries until the controller accepts the registration.
func (l *lifecycle) register(ctx context.Context) error {
	req := kmsg.NewPtrBrokerRegistrationRequest()
	req.SetVersion(4)
	req.BrokerID = l.b.cfg.NodeID
	req.ClusterID = l.b.cfg.ClusterID
	req.IncarnationID = l.incarnation
	req.Rack = l.b.cfg.Rack
	req.LogDirs = l.b.cfg.DirectoryIDs
	req.PreviousBrokerEpoch = -1
	for _, a := range l.b.cfg.Advertised {
		ln := kmsg.NewBrokerRegistrationRequestListener()
		ln.Name, ln.Host, ln.Port = a.Name, a.Host, uint16(a.Port)
		ln.SecurityProtocol = securityProtocolCode(a.SecurityProtocol)
		req.Listeners = append(req.Listeners, ln)
	}
	f := kmsg.NewBrokerRegistrationRequestFeature()
	f.Name, f.MinSupportedVersion, f.MaxSupportedVersion = "metadata.version", 7, metadataVersionMax
	req.Features = append(req.Features, f)
	f = kmsg.NewBrokerRegistrationRequestFeature()
	f.Name, f.MinSupportedVersion, f.MaxSupportedVersion = shareVersionFeature, 0, shareVersionMax
	req.Features = append(req.Features, f)
	for {
		raw, err := l.b.controllers.Request(ctx, req)
		if err != nil {
			return err
		}
		resp := raw.(*kmsg.BrokerRegistrationResponse)
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			if !kerr.IsRetriable(err) && err != kerr.DuplicateBrokerRegistration {
				return err
			}
			l.b.log.Info("registration refused; retrying", zap.Error(err))
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second):
			}
			continue
		}
		l.epoch.Store(resp.BrokerEpoch)
		l.b.log.Info("registered with the controller", zap.Int64("broker_epoch", l.epoch.Load()))
		return nil
	}
}

// heartbeat sends heartbeats until ctx ends: quickly until unfenced, then
// every broker.heartbeat.interval.ms.
func (l *lifecycle) heartbeat(ctx context.Context) {
	for ctx.Err() == nil {
		resp, err := l.send(ctx, false)
		if err == nil {
			l.observe(resp)
		} else if ctx.Err() == nil {
			l.b.log.Warn("heartbeat failed", zap.Error(err))
			if err == kerr.StaleBrokerEpoch || err == kerr.BrokerIDNotRegistered {
				// The controller lost or replaced the registration.
				if rerr := l.register(ctx); rerr != nil {
					continue
				}
			}
		}
		wait := l.b.cfg.HeartbeatInterval
		if l.fenced {
			wait = min(wait, 100*time.Millisecond)
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		case <-l.b.dirs.changed:
		}
	}
}

func (l *lifecycle) send(ctx context.Context, shutdown bool) (*kmsg.BrokerHeartbeatResponse, error) {
	req := kmsg.NewPtrBrokerHeartbeatRequest()
	req.SetVersion(1)
	req.BrokerID = l.b.cfg.NodeID
	req.BrokerEpoch = l.epoch.Load()
	req.CurrentMetadataOffset = l.b.meta.Image().Offset
	req.WantShutdown = shutdown
	// KIP-858: the controller keeps a broker with an offline log dir
	// fenced, moving its leadership to in-sync replicas elsewhere.
	req.OfflineLogDirs = l.b.dirs.offlineIDs()
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// Each voter gets about a heartbeat interval (1-5 s): an unreachable
	// active controller is left for the next voter well within the
	// session timeout the new one gives this broker.
	attempt := min(max(l.b.cfg.HeartbeatInterval, time.Second), 5*time.Second)
	raw, err := l.b.controllers.RequestWithin(rctx, req, attempt)
	if err != nil {
		return nil, err
	}
	resp := raw.(*kmsg.BrokerHeartbeatResponse)
	return resp, kerr.ErrorForCode(resp.ErrorCode)
}

func (l *lifecycle) observe(resp *kmsg.BrokerHeartbeatResponse) {
	if l.fenced && !resp.IsFenced {
		select {
		case <-l.unfenced:
		default:
			// Serve once the image shows the unfencing, which carries the
			// leadership this broker regains, so clients never see it
			// half-applied.
			self := l.b.cfg.NodeID
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			l.b.meta.waitUntil(ctx, func(img *metadata.Image) bool {
				br := img.Brokers[self]
				return br != nil && !br.Fenced
			})
			cancel()
			l.b.log.Info("unfenced by the controller; serving clients")
			close(l.unfenced)
		}
	} else if !l.fenced && resp.IsFenced {
		l.b.log.Warn("fenced by the controller")
	}
	l.fenced = resp.IsFenced
}

// controlledShutdown asks the controller to move leadership away and waits
// until it says the broker may stop, or ctx ends.
func (l *lifecycle) controlledShutdown(ctx context.Context) {
	for ctx.Err() == nil {
		resp, err := l.send(ctx, true)
		if err == nil && resp.ShouldShutdown {
			l.b.log.Info("controlled shutdown complete")
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	l.b.log.Warn("controlled shutdown did not complete in time")
}

func securityProtocolCode(p string) int16 {
	switch p {
	case "SSL":
		return 1
	case "SASL_PLAINTEXT":
		return 2
	case "SASL_SSL":
		return 3
	}
	return 0
}
