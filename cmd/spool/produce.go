package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

type produceOpts struct {
	keySep      string
	headers     []string
	partition   int32
	acks        string
	compression string
}

// options turns the flags into producer options.
func (o *produceOpts) options(timeout time.Duration) ([]kgo.Opt, error) {
	// A record the cluster has not acknowledged within --timeout fails
	// the command rather than retrying for ever.
	opts := []kgo.Opt{kgo.RecordDeliveryTimeout(timeout)}
	switch o.acks {
	case "all", "-1":
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	case "1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	case "0":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite())
	default:
		return nil, usageErrorf("--acks %q: want all, 1 or 0", o.acks)
	}
	codecs := map[string]kgo.CompressionCodec{
		"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
		"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
	}
	codec, ok := codecs[o.compression]
	if !ok {
		return nil, usageErrorf("--compression %q: want none, gzip, snappy, lz4 or zstd", o.compression)
	}
	opts = append(opts, kgo.ProducerBatchCompression(codec))
	if o.partition >= 0 {
		opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	}
	return opts, nil
}

func (o *produceOpts) parseHeaders() ([]kgo.RecordHeader, error) {
	var hs []kgo.RecordHeader
	for _, h := range o.headers {
		k, v, ok := strings.Cut(h, "=")
		if !ok || k == "" {
			return nil, usageErrorf("--header %q: want key=value", h)
		}
		hs = append(hs, kgo.RecordHeader{Key: k, Value: []byte(v)})
	}
	return hs, nil
}

type producedRecord struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Error     string `json:"error,omitempty"`
}

func newProduceCmd(a *app) *cobra.Command {
	o := produceOpts{}
	var headers []kgo.RecordHeader
	cmd := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Write one record per line of standard input",
		Long: `Write one record per line of standard input to TOPIC. With --key-separator,
the text before the first separator is the record key. Lines are sent in order
and the command waits for every acknowledgement. With --format json it prints
where each record landed, one JSON object per line.

A topic that does not exist is created by the cluster when it allows that
(auto.create.topics.enable, on by default, as in Kafka); otherwise the
command says how to create it. On a terminal, a progress bar follows the
records read from a file or pipe.`,
		Example: `  echo hello | spool produce orders
  printf 'k1:v1\nk2:v2\n' | spool produce orders --key-separator :
  spool produce orders --header source=cli --partition 0 --acks 1 --compression zstd < events.txt`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeTopics,
	}
	a.client(cmd, clientCmd{
		stream: true,
		check: func([]string) error {
			var err error
			headers, err = o.parseHeaders()
			return err
		},
		opts: func(args []string, timeout time.Duration) ([]kgo.Opt, error) {
			opts, err := o.options(timeout)
			return append(opts, kgo.DefaultProduceTopic(args[0])), err
		},
		run: func(s *session, args []string) error {
			topic := args[0]
			if err := ensureTopic(s, topic, o.partition); err != nil {
				return err
			}
			ctx, stop := s.stream(context.Background())
			defer stop()
			pr := &producer{s: s, topic: topic, headers: headers, o: &o}
			return pr.run(ctx, cmd.InOrStdin())
		},
	})
	cmd.Flags().StringVar(&o.keySep, "key-separator", "", "split each line into key and value at the first SEP")
	cmd.Flags().StringArrayVarP(&o.headers, "header", "H", nil, "record header key=value (repeatable)")
	cmd.Flags().Int32Var(&o.partition, "partition", -1, "write every record to this partition (-1: by key hash, or spread when keyless)")
	cmd.Flags().StringVar(&o.acks, "acks", "all", "acknowledgements to wait for: all, 1 or 0")
	cmd.Flags().StringVar(&o.compression, "compression", "none", "batch compression: none, gzip, snappy, lz4 or zstd")
	return cmd
}

// producer sends the lines of one input and collects where they landed.
type producer struct {
	s       *session
	topic   string
	headers []kgo.RecordHeader
	o       *produceOpts

	mu      sync.Mutex
	results []producedRecord
	firstEr error
	wg      sync.WaitGroup
}

// run sends every line, then waits for all acknowledgements; the first
// failure is the command's error.
func (pr *producer) run(ctx context.Context, in io.Reader) error {
	bar := inputProgress(in)
	defer bar.done()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	n := 0
	for sc.Scan() && ctx.Err() == nil {
		bar.add(len(sc.Bytes()) + 1)
		pr.send(ctx, n, sc.Text())
		n++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read standard input: %w", err)
	}
	if err := pr.s.cl.Flush(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	pr.wg.Wait()
	bar.done()
	if pr.s.out.json {
		for _, r := range pr.results {
			if err := pr.s.out.emitJSONLine(r); err != nil {
				return err
			}
		}
	} else if pr.firstEr == nil {
		fmt.Fprintf(pr.s.out.w, "Produced %s to %s.\n", plural(n, "record", "records"), pr.topic)
	}
	return pr.firstEr
}

// send produces line i without waiting for its acknowledgement.
func (pr *producer) send(ctx context.Context, i int, line string) {
	r := &kgo.Record{Topic: pr.topic, Value: []byte(line), Headers: pr.headers}
	if pr.o.keySep != "" {
		if k, v, ok := strings.Cut(line, pr.o.keySep); ok {
			r.Key, r.Value = []byte(k), []byte(v)
		}
	}
	if pr.o.partition >= 0 {
		r.Partition = pr.o.partition
	}
	pr.mu.Lock()
	pr.results = append(pr.results, producedRecord{Topic: pr.topic, Partition: -1, Offset: -1})
	pr.mu.Unlock()
	pr.wg.Add(1)
	pr.s.cl.Produce(ctx, r, func(r *kgo.Record, err error) {
		defer pr.wg.Done()
		pr.mu.Lock()
		defer pr.mu.Unlock()
		pr.results[i].Partition, pr.results[i].Offset = r.Partition, r.Offset
		if err != nil {
			pr.results[i].Error = err.Error()
			if pr.firstEr == nil {
				pr.firstEr = fmt.Errorf("record %d: %w", i+1, kafkaError(err, ""))
			}
		}
	})
}

// inputProgress is a bar over the bytes of a file on standard input, or a
// running count over a pipe; typing at a terminal gets none.
func inputProgress(in io.Reader) *progress {
	f, ok := in.(*os.File)
	if !ok {
		return &progress{}
	}
	st, err := f.Stat()
	switch {
	case err != nil, st.Mode()&os.ModeCharDevice != 0:
		return &progress{}
	case st.Mode().IsRegular():
		return newByteProgress(st.Size(), "producing")
	}
	return newByteProgress(-1, "producing")
}
