package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// consumedRecord is what --format json prints and what a template sees.
type consumedRecord struct {
	Topic       string         `json:"topic"`
	Partition   int32          `json:"partition"`
	Offset      int64          `json:"offset"`
	Timestamp   time.Time      `json:"timestamp"`
	TimestampMs int64          `json:"timestamp_ms"`
	Key         *string        `json:"key"`
	Value       *string        `json:"value"`
	Headers     []recordHeader `json:"headers"`
}

type recordHeader struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func toConsumed(r *kgo.Record) consumedRecord {
	c := consumedRecord{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp.UTC(), TimestampMs: r.Timestamp.UnixMilli(), Headers: []recordHeader{}}
	if r.Key != nil {
		k := string(r.Key)
		c.Key = &k
	}
	if r.Value != nil {
		v := string(r.Value)
		c.Value = &v
	}
	for _, h := range r.Headers {
		c.Headers = append(c.Headers, recordHeader{h.Key, string(h.Value)})
	}
	return c
}

// recordWriter prints consumed records in the chosen format.
type recordWriter struct {
	w            *bufio.Writer
	json         bool
	tmpl         *template.Template
	printKey     bool
	printHeaders bool
}

func (rw *recordWriter) write(r *kgo.Record) error {
	switch {
	case rw.tmpl != nil:
		return rw.tmpl.Execute(rw.w, toConsumed(r))
	case rw.json:
		b, err := json.Marshal(toConsumed(r))
		if err != nil {
			return err
		}
		rw.w.Write(b)
		return rw.w.WriteByte('\n')
	}
	if rw.printHeaders {
		var hs []string
		for _, h := range r.Headers {
			hs = append(hs, h.Key+":"+string(h.Value))
		}
		if len(hs) == 0 {
			rw.w.WriteString("NO_HEADERS")
		} else {
			rw.w.WriteString(strings.Join(hs, ","))
		}
		rw.w.WriteByte('\t')
	}
	if rw.printKey {
		if r.Key == nil {
			rw.w.WriteString("null")
		} else {
			rw.w.Write(r.Key)
		}
		rw.w.WriteByte('\t')
	}
	rw.w.Write(r.Value)
	return rw.w.WriteByte('\n')
}

type consumeOpts struct {
	fromBeginning bool
	offset        string
	partitions    []int32
	group         string
	maxMessages   int
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

func newConsumeCmd(a *app) *cobra.Command {
	var f clientFlags
	var o consumeOpts
	cmd := &cobra.Command{
		Use:   "consume TOPIC",
		Short: "Print records as they arrive, until Ctrl-C or --max-messages",
		Long: `Print a topic's records as they arrive. Without --from-beginning or --offset
it starts at the end, like Kafka's console consumer. With --group it joins that
consumer group, resumes from its committed offsets and commits what it printed.

--format takes text, json (one object per line) or a Go template over
.Topic .Partition .Offset .Timestamp .TimestampMs .Key .Value .Headers
(Key and Value are *string: nil for null).`,
		Example: `  spool consume orders --from-beginning
  spool consume orders --partition 0 --offset 42 --max-messages 10
  spool consume orders --group billing --print-key --print-headers
  spool consume orders --from-beginning --format '{{.Partition}}@{{.Offset}} {{deref .Value}}{{"\n"}}'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			topic := args[0]
			rw := &recordWriter{w: bufio.NewWriter(cmd.OutOrStdout()), printKey: o.printKey, printHeaders: o.printHeaders}
			switch a.format {
			case "text":
			case "json":
				rw.json = true
			default:
				t, err := template.New("record").Funcs(template.FuncMap{"deref": deref}).Parse(a.format)
				if err != nil {
					return usageErrorf("--format: not text, json or a valid Go template: %v", err)
				}
				rw.tmpl = t
			}
			start, err := o.start()
			if err != nil {
				return err
			}
			if o.group != "" && (len(o.partitions) > 0 || o.offset != "") {
				return usageErrorf("--group chooses partitions and offsets itself; drop --partition and --offset")
			}
			var opts []kgo.Opt
			switch {
			case o.group != "":
				opts = append(opts, kgo.ConsumerGroup(o.group), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(start), kgo.AutoCommitMarks())
			case len(o.partitions) > 0:
				ps := map[int32]kgo.Offset{}
				for _, p := range o.partitions {
					ps[p] = start
				}
				opts = append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: ps}))
			default:
				opts = append(opts, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(start))
			}
			s, err := a.connect(cmd, &f, opts...)
			if err != nil {
				return err
			}
			defer s.close()
			if err := topicExists(s, topic); err != nil {
				return err
			}
			ctx, stop := interruptible(cmd.Context())
			defer stop()
			err = consumeLoop(ctx, s.cl, rw, o.maxMessages, o.group != "")
			if o.group != "" {
				cctx, cancel := context.WithTimeout(context.Background(), f.timeout)
				defer cancel()
				if cerr := s.cl.CommitMarkedOffsets(cctx); cerr != nil && err == nil {
					err = fmt.Errorf("commit offsets of group %s: %w", o.group, kafkaError(cerr, ""))
				}
			}
			return err
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&o.fromBeginning, "from-beginning", false, "start at the earliest offset when nothing is committed")
	cmd.Flags().StringVar(&o.offset, "offset", "", "start at earliest, latest or this offset")
	cmd.Flags().Int32SliceVar(&o.partitions, "partition", nil, "consume only these partitions (repeatable or comma-separated)")
	cmd.Flags().StringVarP(&o.group, "group", "g", "", "consume as a member of this group and commit progress")
	cmd.Flags().IntVarP(&o.maxMessages, "max-messages", "n", 0, "exit after this many records (0: run until Ctrl-C)")
	cmd.Flags().BoolVar(&o.printKey, "print-key", false, "print each record's key, tab-separated before the value")
	cmd.Flags().BoolVar(&o.printHeaders, "print-headers", false, "print each record's headers (k:v,...), tab-separated before the key and value")
	return cmd
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func topicExists(s *session, topic string) error {
	details, err := s.adm.ListTopicsWithInternal(s.ctx, topic)
	if err != nil {
		return err
	}
	if d, ok := details[topic]; !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
		return fmt.Errorf("topic %s does not exist", topic)
	} else if d.Err != nil {
		return fmt.Errorf("topic %s: %w", topic, kafkaError(d.Err, ""))
	}
	return nil
}

// consumeLoop prints records until ctx ends (Ctrl-C: a clean exit) or max
// records were printed.
func consumeLoop(ctx context.Context, cl *kgo.Client, rw *recordWriter, max int, mark bool) error {
	n := 0
	defer rw.w.Flush()
	for {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var ferr error
		fetches.EachError(func(topic string, p int32, err error) {
			if ferr != nil || errors.Is(err, context.Canceled) || kerr.IsRetriable(err) {
				return
			}
			if topic == "" {
				ferr = kafkaError(err, "")
			} else {
				ferr = fmt.Errorf("%s-%d: %w", topic, p, kafkaError(err, ""))
			}
		})
		if ferr != nil {
			return ferr
		}
		var werr error
		fetches.EachRecord(func(r *kgo.Record) {
			if werr != nil || (max > 0 && n >= max) {
				return
			}
			if werr = rw.write(r); werr == nil {
				n++
				if mark {
					cl.MarkCommitRecords(r)
				}
			}
		})
		if werr != nil {
			return werr
		}
		if err := rw.w.Flush(); err != nil {
			if errors.Is(err, io.ErrClosedPipe) {
				return nil
			}
			return err
		}
		if max > 0 && n >= max {
			return nil
		}
	}
}
