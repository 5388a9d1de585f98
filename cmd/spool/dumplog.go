package main

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/record"
)

func newDumpLogCmd(a *app) *cobra.Command {
	var printData bool
	cmd := &cobra.Command{
		Use:   "dump-log FILE...",
		Short: "Decode segment, index, time index and metadata log files offline",
		Long: `Decode log files without a running broker, like Kafka's kafka-dump-log:
  *.log          record batches (--print-data-log adds each record's key and value);
                 under __cluster_metadata-0 the metadata records are decoded too
  *.checkpoint   metadata snapshots, decoded record by record
  *.index        offset index entries (offset -> file position)
  *.timeindex    time index entries (timestamp -> offset)`,
		Example: `  spool dump-log spool-data/orders-0/00000000000000000000.log --print-data-log
  spool dump-log spool-data/orders-0/00000000000000000000.index
  spool dump-log spool-data/__cluster_metadata-0/*.log
  spool dump-log spool-data/__cluster_metadata-0/00000000000000000042-0000000001.checkpoint --format json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			p := a.printer(cmd.OutOrStdout())
			var dumps []*fileDump
			bar := newProgress(int64(len(files)), "decoding")
			defer bar.done()
			for i, f := range files {
				bar.describe("decoding " + filepath.Base(f))
				d, err := dumpFile(f, printData)
				if err != nil {
					return fmt.Errorf("%s: %w", f, err)
				}
				bar.add(1)
				if !p.json {
					bar.clear()
					d.print(p.w, i > 0)
				}
				dumps = append(dumps, d)
			}
			if p.json {
				return p.emitJSON(dumps)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&printData, "print-data-log", false, "print every record's key, value and headers")
	return cmd
}

// fileDump is one decoded file.
type fileDump struct {
	File    string       `json:"file"`
	Kind    string       `json:"kind"`
	Batches []dumpBatch  `json:"batches,omitempty"`
	Entries []indexEntry `json:"entries,omitempty"`
	// Problem is where decoding stopped early (a torn tail after a crash).
	Problem string `json:"problem,omitempty"`
}

type dumpBatch struct {
	BaseOffset           int64        `json:"base_offset"`
	LastOffset           int64        `json:"last_offset"`
	Count                int32        `json:"count"`
	BaseSequence         int32        `json:"base_sequence"`
	ProducerID           int64        `json:"producer_id"`
	ProducerEpoch        int16        `json:"producer_epoch"`
	PartitionLeaderEpoch int32        `json:"partition_leader_epoch"`
	Transactional        bool         `json:"is_transactional"`
	Control              bool         `json:"is_control"`
	Position             int64        `json:"position"`
	TimestampType        string       `json:"timestamp_type"`
	MaxTimestamp         int64        `json:"max_timestamp"`
	Size                 int          `json:"size"`
	Compression          string       `json:"compression"`
	CRC                  uint32       `json:"crc"`
	Valid                bool         `json:"is_valid"`
	Records              []dumpRecord `json:"records,omitempty"`
}

type dumpRecord struct {
	Offset    int64          `json:"offset"`
	Timestamp int64          `json:"timestamp"`
	Key       *string        `json:"key,omitempty"`
	Value     *string        `json:"value,omitempty"`
	Headers   []recordHeader `json:"headers,omitempty"`
	// Metadata records.
	Type    string `json:"type,omitempty"`
	Version int16  `json:"version,omitempty"`
	Payload any    `json:"payload,omitempty"`
}

type indexEntry struct {
	Offset    int64 `json:"offset"`
	Position  int64 `json:"position,omitempty"`
	Timestamp int64 `json:"timestamp,omitempty"`
}

func dumpFile(path string, printData bool) (*fileDump, error) {
	name := filepath.Base(path)
	meta := filepath.Base(filepath.Dir(path)) == "__cluster_metadata-0"
	switch {
	case strings.HasSuffix(name, ".log"):
		kind := "log"
		if meta {
			kind = "metadata-log"
		}
		return dumpBatches(path, kind, meta, printData || meta)
	case strings.HasSuffix(name, ".checkpoint"):
		if _, ok := metadata.ParseSnapshotFileName(name); !ok {
			return nil, errors.New("not a metadata snapshot (want OFFSET-EPOCH.checkpoint)")
		}
		return dumpBatches(path, "metadata-snapshot", true, true)
	case strings.HasSuffix(name, ".timeindex"):
		return dumpIndex(path, "timeindex", 12)
	case strings.HasSuffix(name, ".index"):
		return dumpIndex(path, "index", 8)
	}
	return nil, errors.New("unknown file type: want .log, .index, .timeindex or a metadata .checkpoint")
}

// dumpBatches decodes a file of record batches, streaming so a 1 GiB
// segment does not have to fit in memory.
func dumpBatches(path, kind string, meta, records bool) (*fileDump, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d := &fileDump{File: path, Kind: kind}
	r := bufio.NewReaderSize(f, 1<<20)
	var pos int64
	for {
		var prefix [12]byte
		if _, err := io.ReadFull(r, prefix[:]); err != nil {
			if err != io.EOF {
				d.Problem = fmt.Sprintf("truncated batch header at position %d", pos)
			}
			return d, nil
		}
		n := int64(binary.BigEndian.Uint32(prefix[8:]))
		if n < 49 || n > 1<<30 {
			d.Problem = fmt.Sprintf("bad batch length %d at position %d", n, pos)
			return d, nil
		}
		buf := make([]byte, 12+n)
		copy(buf, prefix[:])
		if _, err := io.ReadFull(r, buf[12:]); err != nil {
			d.Problem = fmt.Sprintf("truncated batch at position %d", pos)
			return d, nil
		}
		b, err := decodeDumpBatch(buf, pos, meta, records)
		if err != nil {
			d.Problem = fmt.Sprintf("batch at position %d: %v", pos, err)
			return d, nil
		}
		d.Batches = append(d.Batches, b)
		pos += int64(len(buf))
	}
}

func decodeDumpBatch(buf []byte, pos int64, meta, records bool) (dumpBatch, error) {
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(buf); err != nil {
		return dumpBatch{}, err
	}
	b := dumpBatch{
		BaseOffset: rb.FirstOffset, LastOffset: rb.FirstOffset + int64(rb.LastOffsetDelta), Count: rb.NumRecords,
		BaseSequence: rb.FirstSequence, ProducerID: rb.ProducerID, ProducerEpoch: rb.ProducerEpoch,
		PartitionLeaderEpoch: rb.PartitionLeaderEpoch, Transactional: rb.Attributes&0x10 != 0, Control: rb.Attributes&0x20 != 0,
		Position: pos, TimestampType: "CreateTime", MaxTimestamp: rb.MaxTimestamp, Size: len(buf),
		Compression: codecName(int8(rb.Attributes & 7)), CRC: uint32(rb.CRC),
		Valid: len(buf) > 21 && record.BatchChecksum(buf) == uint32(rb.CRC),
	}
	if rb.Attributes&0x08 != 0 {
		b.TimestampType = "LogAppendTime"
	}
	if !records {
		return b, nil
	}
	if b.Control {
		b.Records = append(b.Records, dumpRecord{Offset: b.BaseOffset, Timestamp: rb.FirstTimestamp, Type: controlName(buf)})
		return b, nil
	}
	if meta {
		_, recs, _, err := metadata.DecodeBatch(buf)
		if err != nil {
			return b, err
		}
		for _, r := range recs {
			b.Records = append(b.Records, dumpRecord{Offset: b.BaseOffset, Timestamp: rb.FirstTimestamp, Type: metadata.TypeName(r.Type()), Version: r.Version(), Payload: jsonable(reflect.ValueOf(r))})
		}
		return b, nil
	}
	raw := rb.Records
	if codec := int8(rb.Attributes & record.AttrCompressionMask); codec != record.CompressionNone {
		var err error
		if raw, err = inflateForDump(codec, rb.Records); err != nil {
			return b, fmt.Errorf("batch at offset %d: %w", b.BaseOffset, err)
		}
	}
	for i := int32(0); i < rb.NumRecords && len(raw) > 0; i++ {
		length, n := binary.Varint(raw)
		if n <= 0 || int64(len(raw)-n) < length {
			return b, fmt.Errorf("record %d is truncated", i)
		}
		var kr kmsg.Record
		if err := kr.ReadFrom(raw[:n+int(length)]); err != nil {
			return b, fmt.Errorf("record %d: %w", i, err)
		}
		raw = raw[n+int(length):]
		dr := dumpRecord{Offset: b.BaseOffset + int64(kr.OffsetDelta), Timestamp: rb.FirstTimestamp + kr.TimestampDelta64}
		if kr.Key != nil {
			k := string(kr.Key)
			dr.Key = &k
		}
		if kr.Value != nil {
			v := string(kr.Value)
			dr.Value = &v
		}
		for _, h := range kr.Headers {
			dr.Headers = append(dr.Headers, recordHeader{h.Key, string(h.Value)})
		}
		b.Records = append(b.Records, dr)
	}
	return b, nil
}

// inflateForDump inflates one batch's records, refusing a batch that
// inflates past record.MaxInflated, the most a broker accepts: the size is
// checked from the codec's own headers, or counted without keeping the
// bytes, before any room is allocated, so a damaged or hostile segment
// cannot make the tool allocate without bound.
func inflateForDump(codec int8, src []byte) ([]byte, error) {
	raw, err := record.Decompress(nil, codec, src)
	if errors.Is(err, record.ErrTooLarge) {
		return nil, fmt.Errorf("not decoded, as a broker would refuse it: %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("decompress: %w", err)
	}
	return raw, nil
}

func codecName(c int8) string {
	switch c {
	case 0:
		return "none"
	case 1:
		return "gzip"
	case 2:
		return "snappy"
	case 3:
		return "lz4"
	case 4:
		return "zstd"
	}
	return "unknown(" + strconv.Itoa(int(c)) + ")"
}

// dumpIndex decodes an offset index (4-byte relative offset, 4-byte
// position) or time index (8-byte timestamp, 4-byte relative offset). The
// active segment's index is sparse past its last entry, so decoding stops
// at the first all-zero entry after the first.
func dumpIndex(path, kind string, size int) (*fileDump, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && segmentExists(path) {
		// A segment creates its indexes with their first entry: until
		// then it has none, which is what the log means by a missing file.
		raw, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	base, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), 10, 64)
	if err != nil {
		return nil, errors.New("the file name must be the segment's base offset")
	}
	d := &fileDump{File: path, Kind: kind}
	for i := 0; i+size <= len(raw); i += size {
		e := raw[i : i+size]
		if i > 0 && allZero(e) {
			break
		}
		if size == 8 {
			d.Entries = append(d.Entries, indexEntry{Offset: base + int64(binary.BigEndian.Uint32(e)), Position: int64(binary.BigEndian.Uint32(e[4:]))})
		} else {
			ts := int64(binary.BigEndian.Uint64(e))
			if i == 0 && ts == 0 {
				break
			}
			d.Entries = append(d.Entries, indexEntry{Timestamp: ts, Offset: base + int64(binary.BigEndian.Uint32(e[8:]))})
		}
	}
	return d, nil
}

// segmentExists reports whether the .log of an index file's segment is
// there.
func segmentExists(indexPath string) bool {
	_, err := os.Stat(strings.TrimSuffix(indexPath, filepath.Ext(indexPath)) + ".log")
	return err == nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func (d *fileDump) print(w io.Writer, gap bool) {
	if gap {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Dumping %s (%s)\n", d.File, d.Kind)
	for _, e := range d.Entries {
		if d.Kind == "index" {
			fmt.Fprintf(w, "offset: %d position: %d\n", e.Offset, e.Position)
		} else {
			fmt.Fprintf(w, "timestamp: %d offset: %d\n", e.Timestamp, e.Offset)
		}
	}
	for _, b := range d.Batches {
		fmt.Fprintf(w, "baseOffset: %d lastOffset: %d count: %d baseSequence: %d producerId: %d producerEpoch: %d partitionLeaderEpoch: %d isTransactional: %t isControl: %t position: %d %s: %d size: %d compresscodec: %s crc: %d isvalid: %t\n",
			b.BaseOffset, b.LastOffset, b.Count, b.BaseSequence, b.ProducerID, b.ProducerEpoch, b.PartitionLeaderEpoch, b.Transactional, b.Control,
			b.Position, b.TimestampType, b.MaxTimestamp, b.Size, b.Compression, b.CRC, b.Valid)
		for _, r := range b.Records {
			if b.Control {
				fmt.Fprintf(w, "| offset: %d control: %s\n", r.Offset, r.Type)
				continue
			}
			if r.Type != "" {
				payload, _ := json.Marshal(r.Payload)
				fmt.Fprintf(w, "| offset: %d type: %s version: %d payload: %s\n", r.Offset, r.Type, r.Version, payload)
				continue
			}
			var hk []string
			for _, h := range r.Headers {
				hk = append(hk, h.Key)
			}
			fmt.Fprintf(w, "| offset: %d %s: %d keySize: %d valueSize: %d headerKeys: [%s] key: %s payload: %s\n",
				r.Offset, b.TimestampType, r.Timestamp, strLen(r.Key), strLen(r.Value), strings.Join(hk, ","), nullable(r.Key), nullable(r.Value))
		}
	}
	if d.Problem != "" {
		fmt.Fprintf(w, "stopped: %s\n", d.Problem)
	}
}

func strLen(s *string) int {
	if s == nil {
		return -1
	}
	return len(*s)
}

func nullable(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}

// jsonable turns a metadata record into JSON-friendly values: ids as
// Kafka prints them (base64url), field names in Kafka's lowerCamelCase,
// empty unknown tags left out.
func jsonable(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return jsonable(v.Elem())
	case reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 && v.Len() == 16 {
			b := make([]byte, 16)
			reflect.Copy(reflect.ValueOf(b), v)
			return base64.RawURLEncoding.EncodeToString(b)
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return base64.StdEncoding.EncodeToString(v.Bytes())
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = jsonable(v.Index(i))
		}
		return out
	case reflect.Struct:
		out := map[string]any{}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() || f.Name == "UnknownTags" {
				continue
			}
			out[camel(f.Name)] = jsonable(v.Field(i))
		}
		return out
	case reflect.Map:
		out := map[string]any{}
		for _, k := range v.MapKeys() {
			out[fmt.Sprint(k.Interface())] = jsonable(v.MapIndex(k))
		}
		return out
	}
	return v.Interface()
}

// camel turns a Go field name into Kafka's JSON name: TopicID -> topicId,
// ISR -> isr, BrokerID -> brokerId.
func camel(name string) string {
	if strings.ToUpper(name) == name {
		return strings.ToLower(name)
	}
	if base, ok := strings.CutSuffix(name, "IDs"); ok {
		name = base + "Ids"
	} else if base, ok := strings.CutSuffix(name, "ID"); ok {
		name = base + "Id"
	}
	return strings.ToLower(name[:1]) + name[1:]
}

// controlName names a control batch by its record's key type: transaction
// markers in data logs, raft's records in the metadata log.
func controlName(batch []byte) string {
	_, _, ctl, err := metadata.DecodeBatch(batch)
	if err != nil || ctl == nil {
		return "unknown"
	}
	switch ctl.Type {
	case 0:
		return "ABORT"
	case 1:
		return "COMMIT"
	case 2:
		return "LeaderChange"
	case 3:
		return "SnapshotHeader"
	case 4:
		return "SnapshotFooter"
	case 5:
		return "KRaftVersion"
	case 6:
		return "KRaftVoters"
	case 0x7f01:
		return "RaftConfChange"
	}
	return fmt.Sprintf("type %d", ctl.Type)
}
