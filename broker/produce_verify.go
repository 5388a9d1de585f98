package broker

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/txn"
	"spool/controller/metadata"
	"spool/protocol"
	"spool/record"
)

// verifyTimeout bounds the wait for the transaction coordinator while a
// connection's produce requests wait behind it.
const verifyTimeout = 5 * time.Second

// verifyFunc asks the coordinator of id whether parts are in the
// producer's open transaction: a per-partition verdict, or one error for
// all.
type verifyFunc func(ctx context.Context, id string, producerID int64, epoch int16, parts []txn.Partition) (map[txn.Partition]*kerr.Error, *kerr.Error)

// txnVerifier checks, before a partition takes the first transactional
// batch of a producer's transaction, that the coordinator added the
// partition to that transaction (KIP-890 part 1). Without it a produce that
// arrives after its transaction ended (a retry, a zombie) would open a
// transaction no marker ever closes, holding the last stable offset back
// for good.
type txnVerifier struct {
	b      *Broker
	verify verifyFunc // the coordinator, local or remote; tests replace it

	mu      sync.Mutex
	clients map[int32]*protocol.Client
}

func newTxnVerifier(b *Broker) *txnVerifier {
	v := &txnVerifier{b: b, clients: map[int32]*protocol.Client{}}
	v.verify = v.ask
	return v
}

func (v *txnVerifier) close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	for id, c := range v.clients {
		c.Close()
		delete(v.clients, id)
	}
}

// enabled reads transaction.partition.verification.enable, a dynamic
// broker config.
func (v *txnVerifier) enabled(img *metadata.Image) bool {
	val, _ := v.b.configLayers(img).Broker("transaction.partition.verification.enable")
	on, err := strconv.ParseBool(val)
	return err != nil || on
}

// check returns the error for a transactional batch of h bound for
// topic/partition, verifying every partition of the request that needs it
// on the first call, in one round trip. nil lets the batch through.
func (v *txnVerifier) check(pr *produceRequest, topic string, partition int32, h record.Header) (*kerr.Error, string) {
	if pr.verified == nil {
		pr.verified = v.verifyRequest(pr, h)
	}
	res, ok := pr.verified[txn.Partition{Topic: topic, Partition: partition}]
	if !ok {
		return nil, "" // its transaction was already open here
	}
	return res.err, res.msg
}

type verdict struct {
	err *kerr.Error
	msg string
}

// verifyRequest verifies the partitions of pr whose transactional batches
// would open a transaction. Batches of other producers than the first
// (never sent by a client) are verified too, and fail unless theirs is the
// same transaction.
func (v *txnVerifier) verifyRequest(pr *produceRequest, first record.Header) map[txn.Partition]verdict {
	out := map[txn.Partition]verdict{}
	// Without a transactional id there is no coordinator to ask; Kafka
	// lets such batches through unverified too.
	if pr.r.TransactionID == nil || *pr.r.TransactionID == "" || !v.enabled(pr.img) {
		return out
	}
	var parts []txn.Partition
	for i, t := range pr.r.Topics {
		topic := pr.topics[i].topic
		if topic == nil {
			continue
		}
		for _, rp := range t.Partitions {
			h, err := record.ParseHeader(rp.Records)
			if err != nil || !h.IsTransactional() {
				continue
			}
			p := v.b.replicas.get(tp{topic.Name, rp.Partition})
			if p == nil || p.txnOpen(h.ProducerID) {
				continue
			}
			key := txn.Partition{Topic: topic.Name, Partition: rp.Partition}
			if h.ProducerID != first.ProducerID || h.ProducerEpoch != first.ProducerEpoch {
				out[key] = verdict{kerr.InvalidTxnState, "the batches of one produce request belong to different producers"}
				continue
			}
			parts = append(parts, key)
		}
	}
	if len(parts) == 0 {
		return out
	}
	ctx, cancel := context.WithTimeout(pr.ctx, verifyTimeout)
	defer cancel()
	res, all := v.verify(ctx, *pr.r.TransactionID, first.ProducerID, first.ProducerEpoch, parts)
	for _, k := range parts {
		err := all
		if err == nil {
			err = res[k]
			if _, ok := res[k]; !ok {
				err = kerr.InvalidTxnState
			}
		}
		out[k] = produceVerdict(err)
	}
	return out
}

// produceVerdict turns a coordinator's answer into what a produce may
// return. Clients before KIP-890 know no coordinator errors on produce, so
// the retriable ones become NOT_ENOUGH_REPLICAS with the cause in the
// message, as Kafka answers.
func produceVerdict(err *kerr.Error) verdict {
	switch err {
	case nil:
		return verdict{}
	case kerr.CoordinatorNotAvailable, kerr.NotCoordinator, kerr.CoordinatorLoadInProgress, kerr.ConcurrentTransactions:
		return verdict{kerr.NotEnoughReplicas, "cannot verify the partition is in the transaction yet: " + err.Message}
	case kerr.InvalidProducerEpoch, kerr.ProducerFenced:
		return verdict{kerr.InvalidProducerEpoch, "the producer's epoch is fenced: " + err.Message}
	case kerr.TransactionAbortable, kerr.InvalidTxnState:
		return verdict{kerr.InvalidTxnState, "the partition is not part of the producer's open transaction"}
	}
	return verdict{kerr.InvalidTxnState, "the transaction coordinator refused the partition: " + err.Message}
}

// ask verifies with the coordinator: in process when this broker is it,
// else with a verify-only AddPartitionsToTxn v4 to its inter-broker
// listener.
func (v *txnVerifier) ask(ctx context.Context, id string, producerID int64, epoch int16, parts []txn.Partition) (map[txn.Partition]*kerr.Error, *kerr.Error) {
	img := v.b.Image()
	t := img.Topics.ByName(txnStateTopic)
	if t == nil || len(t.Partitions) == 0 {
		return nil, kerr.CoordinatorNotAvailable
	}
	mp := t.Partition(txn.PartitionFor(id, len(t.Partitions)))
	if mp == nil || mp.Leader < 0 {
		return nil, kerr.CoordinatorNotAvailable
	}
	if mp.Leader == v.b.cfg.NodeID {
		return v.b.txns.verify(id, producerID, epoch, parts)
	}
	client := v.client(mp.Leader)
	if client == nil {
		return nil, kerr.CoordinatorNotAvailable
	}
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.SetVersion(4)
	tr := kmsg.NewAddPartitionsToTxnRequestTransaction()
	tr.TransactionalID, tr.ProducerID, tr.ProducerEpoch, tr.VerifyOnly = id, producerID, epoch, true
	byTopic := map[string]int{}
	for _, p := range parts {
		i, ok := byTopic[p.Topic]
		if !ok {
			i = len(tr.Topics)
			byTopic[p.Topic] = i
			rt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
			rt.Topic = p.Topic
			tr.Topics = append(tr.Topics, rt)
		}
		tr.Topics[i].Partitions = append(tr.Topics[i].Partitions, p.Partition)
	}
	req.Transactions = append(req.Transactions, tr)
	raw, err := client.Request(ctx, req)
	if err != nil {
		return nil, kerr.CoordinatorNotAvailable
	}
	resp := raw.(*kmsg.AddPartitionsToTxnResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, asKerr(err)
	}
	out := map[txn.Partition]*kerr.Error{}
	for _, rt := range resp.Transactions {
		for _, t := range rt.Topics {
			for _, p := range t.Partitions {
				out[txn.Partition{Topic: t.Topic, Partition: p.Partition}] = asKerr(kerr.ErrorForCode(p.ErrorCode))
			}
		}
	}
	return out, nil
}

func asKerr(err error) *kerr.Error {
	if err == nil {
		return nil
	}
	if ke, ok := err.(*kerr.Error); ok {
		return ke
	}
	return kerr.UnknownServerError
}

// client returns the client for broker id's inter-broker listener,
// redialled when its address changed; nil when it has none.
func (v *txnVerifier) client(id int32) *protocol.Client {
	addr := v.b.interBrokerAddr(id)
	if addr == "" {
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	c := v.clients[id]
	if c == nil || c.Addr() != addr {
		if c != nil {
			c.Close()
		}
		c = protocol.NewClientDial(addr, fmt.Sprintf("spool-txn-verify-%d", v.b.cfg.NodeID), v.b.cfg.InterBrokerDial)
		v.clients[id] = c
	}
	return c
}

// txnOpen reports whether producerID has a transaction open here.
func (p *partition) txnOpen(producerID int64) bool {
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	return p.producers.isOpen(producerID)
}
