package broker

import (
	"context"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/controller/metadata"
)

// isrManager sends the ISR changes leaders decide on to the controller
// (AlterPartition), one in flight per partition, and periodically checks
// every led partition for followers that fell out of sync.
type isrManager struct {
	b      *Broker
	maxLag time.Duration
	queue  chan *partition
	// eligible reports whether a broker may join an ISR now.
	eligible func(id int32) bool
}

func newISRManager(b *Broker) *isrManager {
	m := &isrManager{b: b, maxLag: time.Duration(b.cfg.Static.Int("replica.lag.time.max.ms")) * time.Millisecond, queue: make(chan *partition, 4096)}
	m.eligible = func(id int32) bool { return isrEligible(b.meta.Image(), id) }
	return m
}

// isrEligible is Kafka's leader-side check (KIP-841): only a broker the
// image shows unfenced and not in controlled shutdown is asked into an
// ISR. The controller refuses any other with INELIGIBLE_REPLICA, and while
// such a request is in flight the watermark waits for that replica.
func isrEligible(img *metadata.Image, id int32) bool {
	br := img.Brokers[id]
	return br != nil && !br.Fenced && !br.InControlledShutdown
}

// maybeChange queues p if its leader wants a different ISR now.
func (m *isrManager) maybeChange(p *partition, now time.Time) {
	hw := p.HighWatermark()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.repl == nil {
		return
	}
	want := p.repl.wantedISR(hw, now, m.maxLag)
	if want == nil {
		return
	}
	want = slices.DeleteFunc(want, func(id int32) bool { return !slices.Contains(p.repl.isr, id) && !m.eligible(id) })
	if slices.Equal(sorted(want), sorted(p.repl.isr)) {
		return
	}
	select {
	case m.queue <- p:
		p.repl.pending = want
	default: // the periodic check retries
	}
}

// run sends queued changes and checks lag every half lag window.
func (m *isrManager) run(ctx context.Context) {
	tick := time.NewTicker(max(m.maxLag/2, 50*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-m.queue:
			m.send(ctx, p)
		case now := <-tick.C:
			for _, p := range m.b.replicas.all() {
				m.maybeChange(p, now)
			}
		}
	}
}

// send asks the controller for p's pending ISR and applies the answer.
func (m *isrManager) send(ctx context.Context, p *partition) {
	p.mu.RLock()
	repl, leaderEpoch := p.repl, p.leaderEpoch
	var want []int32
	var partitionEpoch int32
	if repl != nil {
		want, partitionEpoch = slices.Clone(repl.pending), repl.partitionEpoch
	}
	p.mu.RUnlock()
	if want == nil {
		return
	}
	req := kmsg.NewPtrAlterPartitionRequest()
	req.SetVersion(2)
	req.BrokerID, req.BrokerEpoch = m.b.cfg.NodeID, m.b.life.epoch.Load()
	rt := kmsg.NewAlterPartitionRequestTopic()
	rt.TopicID = p.topicID
	rp := kmsg.NewAlterPartitionRequestTopicPartition()
	rp.Partition, rp.LeaderEpoch, rp.PartitionEpoch, rp.NewISR = p.id, leaderEpoch, partitionEpoch, want
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	raw, err := m.b.controllers.Request(rctx, req)
	cancel()
	code := int16(0)
	var got kmsg.AlterPartitionResponseTopicPartition
	switch {
	case err != nil:
		code = kerr.RequestTimedOut.Code
	case raw.(*kmsg.AlterPartitionResponse).ErrorCode != 0:
		code = raw.(*kmsg.AlterPartitionResponse).ErrorCode
	default:
		resp := raw.(*kmsg.AlterPartitionResponse)
		code = kerr.UnknownServerError.Code // not the one answer asked for
		if len(resp.Topics) == 1 && len(resp.Topics[0].Partitions) == 1 {
			got = resp.Topics[0].Partitions[0]
			code = got.ErrorCode
		}
	}
	m.settle(p, repl, want, code, got)
}

// settle applies the controller's answer to the ISR change p's leader
// asked for under repl. Whatever the answer, the watermark is computed
// again: while the change was in flight it counted the larger ISR (so a
// joining follower's log end held it back), and an append that came
// meanwhile left it there. Left frozen, it let the follower that was just
// refused rejoin on the next check as "caught up to the high watermark",
// though it lacked every record since; once the controller accepted (the
// follower unfenced), the replica sat in the ISR without them.
func (m *isrManager) settle(p *partition, repl *replication, want []int32, code int16, got kmsg.AlterPartitionResponseTopicPartition) {
	p.mu.Lock()
	current := p.repl == repl && repl != nil
	if current {
		repl.pending = nil
		// The image may already hold this change and a later one (the
		// controller dropping a member it fenced meanwhile): an older
		// answer taken over it would leave the leader believing in an ISR
		// the controller has not had since, asking for nothing while a
		// follower stays out.
		if code == 0 && got.PartitionEpoch > repl.partitionEpoch {
			repl.isr, repl.partitionEpoch = got.ISR, got.PartitionEpoch
		}
	}
	p.mu.Unlock()
	if current {
		p.refreshHighWatermark()
	}
	if code != 0 {
		m.b.log.Info("ISR change refused; retrying later", zap.Stringer("partition", tp{p.topic, p.id}),
			zap.Int32s("isr", want), zap.Error(kerr.ErrorForCode(code)))
		return
	}
	m.b.log.Info("ISR changed", zap.Stringer("partition", tp{p.topic, p.id}), zap.Int32s("isr", got.ISR))
}
