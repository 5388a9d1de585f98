package clients_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"spool/test/clients/internal/spec"
)

// runTxnOffsets: consume-transform-produce. The oracle writes the input;
// the client consumes it in a group read_committed and, in one transaction,
// copies every record to a second topic and commits the consumed offsets
// to the group (AddOffsetsToTxn, TxnOffsetCommit). The first run aborts:
// the group keeps no offsets, so a second run consumes everything again,
// and commits. read_committed readers of the output then see one copy,
// read_uncommitted readers two, and the group's offsets are at the end.
func runTxnOffsets(ctx context.Context, c *cell) error {
	want := resumeRecords()
	to := c.topic + "-out"
	if err := c.d.oracle.createTopic(ctx, to, 3, c.d.rf, nil); err != nil {
		return err
	}
	want, err := c.setupConsume(ctx, want)
	if err != nil {
		return err
	}
	for _, abort := range []bool{true, false} {
		what := "committed"
		if abort {
			what = "aborted"
		}
		got, err := c.transform(ctx, to, len(want), abort)
		if err != nil {
			return fmt.Errorf("%s transaction: %w", what, err)
		}
		// Either run starts where the group's offsets are: nowhere, as
		// the aborted run's offsets must not count.
		if err := c.sameRead(want, got); err != nil {
			return fmt.Errorf("%s transaction's consumer: %w", what, err)
		}
		if err := sameOffsets(want, got); err != nil {
			return fmt.Errorf("%s transaction's consumer: %w", what, err)
		}
		committed, err := c.d.oracle.committed(ctx, c.group, c.topic)
		if err != nil {
			return err
		}
		if abort && len(committed) > 0 {
			return fmt.Errorf("the group has offsets %v after the transaction that committed them was aborted", committed)
		}
		if !abort {
			// The coordinator writes the commit marker to the group's
			// offsets partition after it answers EndTxn; until then the
			// offsets are pending, as in Kafka.
			deadline := time.Now().Add(10 * time.Second)
			for {
				err := c.checkCommitted(ctx, want)
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("10s after the committed transaction: %w", err)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}

	per := spec.PerPartition(want)
	out, err := c.d.oracle.readCount(ctx, to, per, true)
	if err != nil {
		return err
	}
	if err := sameRecords(want, plain(out)); err != nil {
		return fmt.Errorf("oracle read_committed of the output: %w", err)
	}
	twice := map[int32]int{}
	for p, n := range per {
		twice[p] = 2 * n
	}
	all, err := c.d.oracle.readCount(ctx, to, twice, false)
	if err != nil {
		return fmt.Errorf("%w (the aborted copy should be in the log)", err)
	}
	if err := sameRecords(slices.Concat(want, want), plain(all)); err != nil {
		return fmt.Errorf("oracle read_uncommitted of the output, aborted then committed copy: %w", err)
	}
	for _, s := range all {
		if !s.transactional {
			return fmt.Errorf("oracle: output partition %d offset %d is not in a transactional batch", s.Partition, s.Offset)
		}
	}
	return nil
}

// transform runs the client's transform scenario once.
func (c *cell) transform(ctx context.Context, to string, n int, abort bool) ([]spec.Record, error) {
	out := c.path(fmt.Sprintf("transform-%v.jsonl", abort))
	args := []string{"--scenario", "transform", "--group", c.group, "--count", strconv.Itoa(n), "--to", to, "--out", out}
	if abort {
		args = append(args, "--abort")
	}
	if err := c.runner(ctx, c.d.seeds, 40*time.Second, args...); err != nil {
		return nil, err
	}
	got, err := readRecords(out)
	if err != nil {
		return nil, errors.Join(errors.New("runner output"), err)
	}
	return got, nil
}
