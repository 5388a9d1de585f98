package controller

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/controller/metadata"
)

// RegisterBroker handles BrokerRegistration: it returns the broker's new
// epoch once its (fenced) registration has committed.
func (c *Controller) RegisterBroker(ctx context.Context, req *kmsg.BrokerRegistrationRequest, conn session) (int64, error) {
	var epoch int64
	err := c.write(ctx, func(img *metadata.Image) ([]metadata.Record, error) {
		alive := func(id int32) bool { return !c.brokers.expired(id, c.now(), c.cfg.SessionTimeout) }
		recs, e, err := register(img, req, c.cfg.ClusterID, alive, c.brokers.connClosed)
		epoch = e
		if err == nil {
			c.brokers.seen(req.BrokerID, c.now())
			c.brokers.conn[req.BrokerID] = conn
		}
		return recs, err
	})
	if err != nil {
		return -1, err
	}
	c.log.Info("broker registered", zap.Int32("broker", req.BrokerID), zap.Int64("epoch", epoch))
	return epoch, nil
}

// HeartbeatResult is the controller's answer to a broker heartbeat.
type HeartbeatResult struct {
	CaughtUp, Fenced, ShouldShutDown bool
}

// Heartbeat handles BrokerHeartbeat: it renews the broker's session and
// unfences, fences or shuts the broker down as asked and allowed.
func (c *Controller) Heartbeat(ctx context.Context, req *kmsg.BrokerHeartbeatRequest, conn session) (HeartbeatResult, error) {
	var res HeartbeatResult
	err := c.write(ctx, func(img *metadata.Image) ([]metadata.Record, error) {
		b := img.Brokers[req.BrokerID]
		if b == nil {
			return nil, kerr.BrokerIDNotRegistered
		}
		if b.Epoch != req.BrokerEpoch || !c.brokers.owns(b.ID, conn) {
			// A connection the broker did not register on gets the answer
			// a wrong epoch gets; the broker itself registers again (same
			// incarnation, same epoch) after reconnecting.
			return nil, kerr.StaleBrokerEpoch
		}
		now := c.now()
		c.brokers.seen(req.BrokerID, now)
		res.CaughtUp = c.brokers.caughtUp(req.BrokerID, req.CurrentMetadataOffset)
		var recs []metadata.Record
		recs, res.Fenced, res.ShouldShutDown = heartbeatChange(img, b, req, res.CaughtUp)
		if len(req.OfflineLogDirs) > 0 && !b.Fenced {
			c.log.Warn("broker reports offline log dirs; fencing it and moving its leadership", zap.Int32("broker", b.ID), zap.Int("dirs", len(req.OfflineLogDirs)))
		}
		return recs, nil
	})
	return res, err
}

// fenceExpired fences every unfenced broker whose session has lapsed.
func (c *Controller) fenceExpired(now time.Time) {
	for id, b := range c.spec.Brokers {
		if b.Fenced || !c.brokers.expired(id, now, c.cfg.SessionTimeout) {
			continue
		}
		c.log.Warn("broker session expired; fencing", zap.Int32("broker", id))
		c.propose(fence(c.spec, id), func(error) {})
	}
}

// heartbeatChange is what a heartbeat from registered broker b changes:
// the records to write, whether b is fenced after them and whether it may
// stop. A broker with an offline log dir (KIP-858's OfflineLogDirs) stays
// fenced until it restarts without one: directory assignment is not
// tracked, so its replicas on healthy dirs step aside too.
func heartbeatChange(img *metadata.Image, b *metadata.Broker, req *kmsg.BrokerHeartbeatRequest, caughtUp bool) (recs []metadata.Record, fenced, shutDown bool) {
	offline := len(req.OfflineLogDirs) > 0
	switch {
	case req.WantShutdown:
		// The records commit before the answer goes out, so by then
		// the broker leads nothing and may stop.
		if !b.InControlledShutdown {
			recs = append(recs, &metadata.BrokerRegistrationChangeRecord{BrokerID: b.ID, BrokerEpoch: b.Epoch, InControlledShutdown: 1})
		}
		if !b.Fenced {
			recs = append(recs, fence(img, b.ID)...)
		}
		return recs, true, true
	case (req.WantFence || offline) && !b.Fenced:
		return fence(img, b.ID), true, false
	case b.InControlledShutdown:
		// As in Kafka, a registration that began a controlled shutdown
		// never serves again: the broker's ordinary heartbeats go on
		// while it shuts down, and unfencing it then handed it back
		// leadership of leaderless partitions and made it a replica the
		// ISR cannot take (INELIGIBLE_REPLICA). Its next registration
		// starts afresh.
		return nil, b.Fenced, false
	case !req.WantFence && !offline && b.Fenced && caughtUp:
		return unfence(img, b.ID), false, false
	}
	return nil, b.Fenced, false
}
