package main

import (
	"bufio"
	"encoding/json"
	"strings"
	"text/template"
	"time"

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

// newRecordWriter prints to w in the --format given: text, json or a Go
// template.
func newRecordWriter(w *bufio.Writer, format string, printKey, printHeaders bool) (*recordWriter, error) {
	rw := &recordWriter{w: w, printKey: printKey, printHeaders: printHeaders}
	switch format {
	case "text":
	case "json":
		rw.json = true
	default:
		t, err := template.New("record").Funcs(template.FuncMap{"deref": deref}).Parse(format)
		if err != nil {
			return nil, usageErrorf("--format: not text, json or a valid Go template: %v", err)
		}
		rw.tmpl = t
	}
	return rw, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
