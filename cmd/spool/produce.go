package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

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
func (o *produceOpts) options() ([]kgo.Opt, error) {
	var opts []kgo.Opt
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
	var f clientFlags
	o := produceOpts{}
	cmd := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Write one record per line of standard input",
		Long: `Write one record per line of standard input to TOPIC. With --key-separator,
the text before the first separator is the record key. Lines are sent in order
and the command waits for every acknowledgement. With --format json it prints
where each record landed, one JSON object per line.`,
		Example: `  echo hello | spool produce orders
  printf 'k1:v1\nk2:v2\n' | spool produce orders --key-separator :
  spool produce orders --header source=cli --partition 0 --acks 1 --compression zstd < events.txt`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			topic := args[0]
			headers, err := o.parseHeaders()
			if err != nil {
				return err
			}
			popts, err := o.options()
			if err != nil {
				return err
			}
			s, err := a.connect(cmd, &f, append(popts, kgo.DefaultProduceTopic(topic))...)
			if err != nil {
				return err
			}
			defer s.close()
			ctx, stop := interruptible(cmd.Context())
			defer stop()
			return produceLines(ctx, s.cl, cmd.InOrStdin(), a.printer(cmd.OutOrStdout()), topic, headers, &o)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&o.keySep, "key-separator", "", "split each line into key and value at the first SEP")
	cmd.Flags().StringArrayVarP(&o.headers, "header", "H", nil, "record header key=value (repeatable)")
	cmd.Flags().Int32Var(&o.partition, "partition", -1, "write every record to this partition (-1: by key hash, or spread when keyless)")
	cmd.Flags().StringVar(&o.acks, "acks", "all", "acknowledgements to wait for: all, 1 or 0")
	cmd.Flags().StringVar(&o.compression, "compression", "none", "batch compression: none, gzip, snappy, lz4 or zstd")
	return cmd
}

// produceLines sends every line, then waits for all acknowledgements; the
// first failure is the command's error.
func produceLines(ctx context.Context, cl *kgo.Client, in io.Reader, p *printer, topic string, headers []kgo.RecordHeader, o *produceOpts) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var (
		mu      sync.Mutex
		results []producedRecord
		firstEr error
		acked   int
		wg      sync.WaitGroup
	)
	prog := newProgress()
	defer prog.done()
	n := 0
	for sc.Scan() && ctx.Err() == nil {
		line := sc.Text()
		r := &kgo.Record{Topic: topic, Value: []byte(line), Headers: headers}
		if o.keySep != "" {
			if k, v, ok := strings.Cut(line, o.keySep); ok {
				r.Key, r.Value = []byte(k), []byte(v)
			}
		}
		if o.partition >= 0 {
			r.Partition = o.partition
		}
		i := n
		n++
		mu.Lock()
		results = append(results, producedRecord{Topic: topic, Partition: -1, Offset: -1})
		mu.Unlock()
		wg.Add(1)
		cl.Produce(ctx, r, func(r *kgo.Record, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			results[i].Partition, results[i].Offset = r.Partition, r.Offset
			if err != nil {
				results[i].Error = err.Error()
				if firstEr == nil {
					firstEr = fmt.Errorf("record %d: %w", i+1, kafkaError(err, ""))
				}
			}
			acked++
			prog.update("produced %d of %d records", acked, n)
		})
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read standard input: %w", err)
	}
	if err := cl.Flush(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	wg.Wait()
	prog.done()
	if p.json {
		for _, r := range results {
			if err := p.emitJSONLine(r); err != nil {
				return err
			}
		}
	} else if firstEr == nil {
		fmt.Fprintf(p.w, "Produced %s to %s.\n", plural(n, "record", "records"), topic)
	}
	return firstEr
}
