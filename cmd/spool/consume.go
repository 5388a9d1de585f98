package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

type consumeOpts struct {
	fromBeginning bool
	offset        string
	partitions    []int32
	group         string
	maxMessages   int
	exitAtEnd     bool
	printKey      bool
	printHeaders  bool
}

// start is where consumption begins when nothing is committed.
func (o *consumeOpts) start() (kgo.Offset, error) {
	switch {
	case o.offset == "" && o.fromBeginning, o.offset == "earliest":
		return kgo.NewOffset().AtStart(), nil
	case o.offset == "", o.offset == "latest":
		return kgo.NewOffset().AtEnd(), nil
	}
	n, err := strconv.ParseInt(o.offset, 10, 64)
	if err != nil || n < 0 {
		return kgo.Offset{}, usageErrorf("--offset %q: want earliest, latest or a non-negative offset", o.offset)
	}
	return kgo.NewOffset().At(n), nil
}

// options are the consumer's client options.
func (o *consumeOpts) options(topic string, t *endTracker) []kgo.Opt {
	start, _ := o.start()
	var opts []kgo.Opt
	switch {
	case o.group != "":
		opts = append(opts, kgo.ConsumerGroup(o.group), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(start), kgo.AutoCommitMarks(),
			kgo.OnPartitionsAssigned(t.assigned), kgo.OnPartitionsRevoked(t.revoked), kgo.OnPartitionsLost(t.revoked))
	case len(o.partitions) > 0:
		ps := map[int32]kgo.Offset{}
		for _, p := range o.partitions {
			ps[p] = start
		}
		opts = append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: ps}))
	default:
		opts = append(opts, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(start))
	}
	if o.exitAtEnd {
		// Transaction markers take offsets too: without them a partition
		// ending in a commit marker would never seem to reach its end.
		opts = append(opts, kgo.KeepControlRecords())
	}
	return opts
}

func newConsumeCmd(a *app) *cobra.Command {
	var o consumeOpts
	var rw *recordWriter
	tracker := newEndTracker()
	cmd := &cobra.Command{
		Use:   "consume TOPIC",
		Short: "Print records as they arrive, until Ctrl-C, --max-messages or --exit-at-end",
		Long: `Print a topic's records as they arrive. Without --from-beginning or --offset
it starts at the end, like Kafka's console consumer. With --group it joins that
consumer group, resumes from its committed offsets and commits what it printed.
--exit-at-end stops once every partition (with --group: every partition
assigned to this member) is read up to the end it had at the start, like
kcat -e. On a terminal, a progress bar follows --max-messages and
--exit-at-end.

--format takes text, json (one object per line) or a Go template over
.Topic .Partition .Offset .Timestamp .TimestampMs .Key .Value .Headers
(Key and Value are *string: nil for null).`,
		Example: `  spool consume orders --from-beginning --exit-at-end
  spool consume orders --partition 0 --offset 42 --max-messages 10
  spool consume orders --group billing --print-key --print-headers
  spool consume orders --from-beginning --format '{{.Partition}}@{{.Offset}} {{deref .Value}}{{"\n"}}'`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeTopics,
	}
	a.client(cmd, clientCmd{
		templates: true,
		stream:    true,
		check: func([]string) error {
			var err error
			if rw, err = newRecordWriter(bufio.NewWriter(cmd.OutOrStdout()), a.format, o.printKey, o.printHeaders); err != nil {
				return err
			}
			if _, err := o.start(); err != nil {
				return err
			}
			if o.group != "" && (len(o.partitions) > 0 || o.offset != "") {
				return usageErrorf("--group chooses partitions and offsets itself; drop --partition and --offset")
			}
			if o.maxMessages < 0 {
				return usageErrorf("--max-messages %d: want 0 (no limit) or more", o.maxMessages)
			}
			return nil
		},
		opts: func(args []string, _ time.Duration) ([]kgo.Opt, error) { return o.options(args[0], tracker), nil },
		run: func(s *session, args []string) error {
			return consume(s, args[0], &o, rw, tracker)
		},
	})
	f := cmd.Flags()
	f.BoolVar(&o.fromBeginning, "from-beginning", false, "start at the earliest offset when nothing is committed")
	f.StringVar(&o.offset, "offset", "", "start at earliest, latest or this offset")
	f.Int32SliceVar(&o.partitions, "partition", nil, "consume only these partitions (repeatable or comma-separated)")
	f.StringVarP(&o.group, "group", "g", "", "consume as a member of this group and commit progress")
	f.IntVarP(&o.maxMessages, "max-messages", "n", 0, "exit after this many records (0: no limit)")
	f.BoolVarP(&o.exitAtEnd, "exit-at-end", "e", false, "exit once the partitions are read up to their end at start")
	f.BoolVar(&o.printKey, "print-key", false, "print each record's key, tab-separated before the value")
	f.BoolVar(&o.printHeaders, "print-headers", false, "print each record's headers (k:v,...), tab-separated before the key and value")
	_ = cmd.RegisterFlagCompletionFunc("group", a.completeGroupFlag)
	return cmd
}

// consume checks that the topic and partitions exist (kgo would wait for
// them silently), then prints records until the stream ends.
func consume(s *session, topic string, o *consumeOpts, rw *recordWriter, t *endTracker) error {
	parts, err := partitionsOf(s, topic, o.partitions)
	if err != nil {
		return err
	}
	if o.exitAtEnd {
		if err := t.load(s, topic, parts, o); err != nil {
			return err
		}
	}
	ctx, stop := s.stream(context.Background())
	defer stop()
	c := &consumer{cl: s.cl, rw: rw, max: o.maxMessages, mark: o.group != "", t: t}
	switch {
	case o.maxMessages > 0:
		c.bar = newProgress(int64(o.maxMessages), "consuming")
	case o.exitAtEnd:
		c.bar = newProgress(t.remaining(), "consuming")
	}
	err = c.loop(ctx)
	c.bar.done()
	if o.group != "" {
		cctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		defer cancel()
		if cerr := s.cl.CommitMarkedOffsets(cctx); cerr != nil && err == nil {
			err = fmt.Errorf("commit offsets of group %s: %w", o.group, kafkaError(cerr, ""))
		}
	}
	return err
}

// consumer prints polled records until its context ends (Ctrl-C: a clean
// exit), max records were printed, or the end tracker says done.
type consumer struct {
	cl   *kgo.Client
	rw   *recordWriter
	max  int
	mark bool
	t    *endTracker
	bar  *progress
	n    int
}

func (c *consumer) loop(ctx context.Context) error {
	defer c.rw.w.Flush()
	for !c.finished() {
		fetches := c.poll(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err := fetchError(fetches); err != nil {
			return err
		}
		var werr error
		fetches.EachRecord(func(r *kgo.Record) {
			if werr == nil && !c.finished() {
				werr = c.handle(r)
			}
		})
		if werr != nil {
			return werr
		}
		if err := c.rw.w.Flush(); err != nil {
			if errors.Is(err, io.ErrClosedPipe) {
				return nil
			}
			return err
		}
	}
	return nil
}

// poll waits for records. With --exit-at-end it wakes every quarter
// second, since a group's assignment can complete the command without any
// record arriving.
func (c *consumer) poll(ctx context.Context) kgo.Fetches {
	if !c.t.enabled() {
		return c.cl.PollFetches(ctx)
	}
	pctx, cancel := context.WithTimeout(ctx, 250*time.Millisecond)
	defer cancel()
	return c.cl.PollFetches(pctx)
}

func (c *consumer) finished() bool { return (c.max > 0 && c.n >= c.max) || c.t.done() }

// handle prints one record; control records (kept for --exit-at-end) only
// move the partition's position.
func (c *consumer) handle(r *kgo.Record) error {
	c.t.advance(r.Partition, r.Offset+1)
	if c.mark {
		c.cl.MarkCommitRecords(r)
	}
	if r.Attrs.IsControl() {
		return nil
	}
	if err := c.rw.write(r); err != nil {
		return err
	}
	c.n++
	c.bar.add(1)
	return nil
}

// fetchError is the first error of a poll worth stopping for.
func fetchError(fetches kgo.Fetches) error {
	var ferr error
	fetches.EachError(func(topic string, p int32, err error) {
		if ferr != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || kerr.IsRetriable(err) {
			return
		}
		if topic == "" {
			ferr = kafkaError(err, "")
		} else {
			ferr = fmt.Errorf("%s-%d: %w", topic, p, kafkaError(err, ""))
		}
	})
	return ferr
}
