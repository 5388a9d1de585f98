package controller

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/controller/metadata"
	"spool/protocol"
)

// UnregisterBroker removes a broker's registration (KIP-500's
// UnregisterBroker, what `kafka-cluster unregister` and `spool cluster
// decommission` send). A broker still running is refused: it would only
// register again; stop it first. Leadership and ISR places it still holds
// go to the other replicas, as when it is fenced; replicas still assigned
// to it stay assigned (move them first, as decommission does).
func (c *Controller) UnregisterBroker(ctx context.Context, req *kmsg.UnregisterBrokerRequest) *kmsg.UnregisterBrokerResponse {
	resp := req.ResponseKind().(*kmsg.UnregisterBrokerResponse)
	var msg string
	err := c.write(ctx, func(img *metadata.Image) ([]metadata.Record, error) {
		b := img.Brokers[req.BrokerID]
		if b == nil {
			return nil, kerr.BrokerIDNotRegistered
		}
		if !b.Fenced && !c.brokers.expired(b.ID, c.now(), c.cfg.SessionTimeout) {
			msg = fmt.Sprintf("Broker %d is still running; shut it down before unregistering it.", b.ID)
			return nil, kerr.InvalidRequest
		}
		recs := moveLeadersAway(img, b.ID)
		return append(recs, &metadata.UnregisterBrokerRecord{BrokerID: b.ID, BrokerEpoch: b.Epoch}), nil
	})
	if err != nil {
		resp.ErrorCode = errorCode(err)
		if msg != "" {
			resp.ErrorMessage = &msg
		}
		return resp
	}
	c.log.Info("broker unregistered", zap.Int32("broker", req.BrokerID))
	return resp
}

func (c *Controller) serveUnregisterBroker(ctx context.Context, req *protocol.Request) protocol.Response {
	return protocol.Msg(c.UnregisterBroker(ctx, req.Msg.(*kmsg.UnregisterBrokerRequest)))
}
