package main

import (
	"context"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"spool/test/clients/internal/spec"
)

// txnHandler takes records until it has the count and then, while the
// group session that consumed them is still live, runs the transaction
// that copies them to --to and commits their offsets with the session's
// generation and member id.
type txnHandler struct {
	a    spec.Args
	p    sarama.SyncProducer
	mu   sync.Mutex
	got  []*sarama.ConsumerMessage
	done chan error
}

func (h *txnHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *txnHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *txnHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for {
		select {
		case m, ok := <-claim.Messages():
			if !ok {
				return nil
			}
			h.mu.Lock()
			if len(h.got) == h.a.Count {
				h.mu.Unlock()
				return nil
			}
			h.got = append(h.got, m)
			full := len(h.got) == h.a.Count
			h.mu.Unlock()
			if full {
				h.done <- h.transact(sess)
				return nil
			}
		case <-sess.Context().Done():
			return nil
		}
	}
}

func (h *txnHandler) transact(sess sarama.ConsumerGroupSession) error {
	if err := h.p.BeginTxn(); err != nil {
		return err
	}
	var recs []spec.Record
	next := map[int32]int64{}
	for _, m := range h.got {
		recs = append(recs, fromSarama(m))
		next[m.Partition] = max(next[m.Partition], m.Offset+1)
	}
	to := h.a
	to.Topic = h.a.To
	if err := h.p.SendMessages(toSarama(to, recs)); err != nil {
		return err
	}
	var offs []*sarama.PartitionOffsetMetadata
	for p, o := range next {
		offs = append(offs, &sarama.PartitionOffsetMetadata{Partition: p, Offset: o, LeaderEpoch: -1})
	}
	md := &sarama.ConsumerGroupMetadata{GroupID: h.a.Group, GenerationID: sess.GenerationID(), MemberID: sess.MemberID()}
	if err := h.p.AddOffsetsToTxnWithGroupMetadata(map[string][]*sarama.PartitionOffsetMetadata{h.a.Topic: offs}, md); err != nil {
		return err
	}
	if h.a.Abort {
		return h.p.AbortTxn()
	}
	return h.p.CommitTxn()
}

// transform consumes --count records in --group read_committed and, in one
// transaction, produces them to --to and commits their offsets; with
// --abort it aborts that transaction.
func transform(ctx context.Context, a spec.Args) {
	pcfg := config(a)
	pcfg.Producer.RequiredAcks = sarama.WaitForAll
	pcfg.Producer.Return.Successes = true
	pcfg.Producer.Partitioner = sarama.NewManualPartitioner
	pcfg.Producer.Idempotent = true
	pcfg.Net.MaxOpenRequests = 1
	pcfg.Producer.Transaction.ID = a.Topic + "-txn"
	pcfg.Producer.Transaction.Retry.Max = 20
	pcfg.Producer.Transaction.Retry.Backoff = 250 * time.Millisecond
	p, err := sarama.NewSyncProducer(a.Brokers(), pcfg)
	spec.Check(err, "new producer")

	cfg := config(a)
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Enable = false
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	g, err := sarama.NewConsumerGroup(a.Brokers(), a.Group, cfg)
	spec.Check(err, "new consumer group")
	h := &txnHandler{a: a, p: p, done: make(chan error, 1)}
	cctx, stop := context.WithCancel(ctx)
	loop := make(chan error, 1)
	go func() {
		for cctx.Err() == nil {
			if err := g.Consume(cctx, []string{a.Topic}, h); err != nil {
				loop <- err
				return
			}
		}
		loop <- nil
	}()
	select {
	case err := <-h.done:
		spec.Check(err, "transaction")
	case err := <-loop:
		spec.Fail("consume: %v", err)
	case <-ctx.Done():
		h.mu.Lock()
		defer h.mu.Unlock()
		spec.Fail("consumed %d of %d records", len(h.got), a.Count)
	}
	stop()
	<-loop
	spec.Check(g.Close(), "close consumer group")
	spec.Check(p.Close(), "close producer")
	var out []spec.Record
	for _, m := range h.got {
		out = append(out, fromSarama(m))
	}
	spec.WriteLines(a.Out, out)
}
