package clients_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/clients/internal/spec"
)

var toolTransactions = &check{
	name:    "kafka-transactions",
	family:  "Kafka tools",
	what:    "an open transaction: list, describe, describe-producers, find-hanging, and abort, after which the partition's last stable offset reaches its end",
	issues:  []int{issueTxn},
	timeout: 3 * time.Minute,
	run:     runToolTransactions,
}

func runToolTransactions(ctx context.Context, k *checkCell) error {
	t, txid, bs := k.prefix, k.prefix+"-tx", k.bootstrap()
	if err := k.d.oracle.createTopic(ctx, t, 1, k.d.rf, nil); err != nil {
		return err
	}
	// A transaction left open: three records and no end.
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.d.seeds...), kgo.TransactionalID(txid), kgo.DefaultProduceTopic(t),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.TransactionTimeout(2*time.Minute))
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := cl.BeginTransaction(); err != nil {
		return err
	}
	for i := range 3 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Partition: 0, Value: fmt.Appendf(nil, "open-%d", i)}).FirstErr(); err != nil {
			return fmt.Errorf("produce in the open transaction: %w", err)
		}
	}
	tx := []string{"--bootstrap-server", bs}
	out, err := k.tool(ctx, "", "kafka-transactions", append(tx, "list")...)
	if err != nil {
		return err
	}
	if err := expect("list", out, `(?m)^`+txid+`\s+\d+\s+\d+\s+Ongoing\s*$`); err != nil {
		return err
	}
	out, err = k.tool(ctx, "", "kafka-transactions", append(tx, "describe", "--transactional-id", txid)...)
	if err != nil {
		return err
	}
	if err := expect("describe", out, `(?m)^\d+\s+`+txid+`\s+\d+\s+\d+\s+Ongoing\s+120000\s+\d+\s+\d+\s+`+t+`-0\s*$`); err != nil {
		return err
	}
	out, err = k.tool(ctx, "", "kafka-transactions", append(tx, "describe-producers", "--topic", t, "--partition", "0")...)
	if err != nil {
		return err
	}
	// ProducerId ProducerEpoch LatestCoordinatorEpoch LastSequence LastTimestamp CurrentTransactionStartOffset
	if err := expect("describe-producers", out, `(?m)^\d+\s+\d+\s+-?\d+\s+2\s+\d+\s+0\s*$`); err != nil {
		return err
	}
	if _, err := k.tool(ctx, "", "kafka-transactions", append(tx, "find-hanging", "--topic", t)...); err != nil {
		return err
	}
	if _, err := k.tool(ctx, "", "kafka-transactions", append(tx, "abort", "--topic", t, "--partition", "0", "--start-offset", "0")...); err != nil {
		return err
	}
	return eventually(ctx, 10*time.Second, func() error {
		ends, err := k.d.oracle.adm.ListEndOffsets(ctx, t)
		if err != nil {
			return err
		}
		stable, err := k.d.oracle.adm.ListCommittedOffsets(ctx, t)
		if err != nil {
			return err
		}
		e, _ := ends.Lookup(t, 0)
		s, _ := stable.Lookup(t, 0)
		if e.Err != nil || s.Err != nil || s.Offset != e.Offset || e.Offset != 4 {
			return fmt.Errorf("after abort the partition's last stable offset is %d (%v), its end %d (%v): want both 4 (3 records and the abort marker)", s.Offset, s.Err, e.Offset, e.Err)
		}
		return nil
	})
}

var toolMetadataQuorum = &check{
	name:    "kafka-metadata-quorum",
	family:  "Kafka tools",
	what:    "describe --status and --replication through the brokers' listener (forwarded) and the controllers' (--bootstrap-controller)",
	timeout: 3 * time.Minute,
	run:     runToolMetadataQuorum,
}

func runToolMetadataQuorum(ctx context.Context, k *checkCell) error {
	for _, target := range [][]string{
		{"--bootstrap-server", k.bootstrap()},
		{"--bootstrap-controller", strings.Join(k.d.controllers, ",")},
	} {
		out, err := k.tool(ctx, "", "kafka-metadata-quorum", append(target, "describe", "--status")...)
		if err != nil {
			return err
		}
		if err := expect("describe --status", out, `ClusterId:\s+\S+`, `LeaderId:\s+\d+`, `CurrentVoters:\s+\[\{"id": \d+`, `HighWatermark:\s+\d+`); err != nil {
			return err
		}
		out, err = k.tool(ctx, "", "kafka-metadata-quorum", append(target, "describe", "--replication")...)
		if err != nil {
			return err
		}
		// One row per voter: id, directory id, log end, lag, the two
		// timestamps (or "N ms ago" with --human-readable), status.
		if err := expect("describe --replication", out, `(?m)^\d+\s+\S+\s+\d+\s+\d+\s+\d+( ms ago)?\s+\d+( ms ago)?\s+Leader`); err != nil {
			return err
		}
	}
	return nil
}

// sizedRecords is n records of random text of size bytes each in
// partition 0: random, so that the producer's compression keeps their size.
func sizedRecords(n, size int) []spec.Record {
	rng := rand.New(rand.NewPCG(3, 4))
	out := make([]spec.Record, n)
	for i := range out {
		out[i] = spec.Record{Partition: 0, Key: []byte("s-" + strconv.Itoa(i)), Value: randomText(rng, size)}
	}
	return out
}
