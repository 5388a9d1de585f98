package broker

import (
	"errors"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/config"
	"spool/controller/metadata"
	"spool/record"
)

// produceConfig is what validating a topic's batches needs from its
// configs, resolved once per topic per request.
type produceConfig struct {
	maxMessageBytes int64
	segmentBytes    int64
	logAppendTime   bool
	beforeMaxMs     int64
	afterMaxMs      int64
	compacted       bool
	minInsync       int
}

func (b *Broker) produceConfig(img *metadata.Image, topic string) produceConfig {
	layers := b.configLayers(img)
	tcfg := img.Configs[metadata.ConfigResource{Type: metadata.ConfigResourceTopic, Name: topic}]
	tsType, _ := layers.Topic(tcfg, "message.timestamp.type")
	policy, _ := layers.Topic(tcfg, "cleanup.policy")
	return produceConfig{
		maxMessageBytes: layers.TopicInt(tcfg, "max.message.bytes"),
		segmentBytes:    layers.TopicSegmentBytes(tcfg),
		logAppendTime:   tsType == "LogAppendTime",
		beforeMaxMs:     layers.TopicInt(tcfg, "message.timestamp.before.max.ms"),
		afterMaxMs:      layers.TopicInt(tcfg, "message.timestamp.after.max.ms"),
		compacted:       slices.Contains(config.SplitList(policy), "compact"),
		minInsync:       int(layers.TopicInt(tcfg, "min.insync.replicas")),
	}
}

// batchProblem is why a partition's records were refused; err nil means
// none.
type batchProblem struct {
	err     *kerr.Error
	msg     string
	records []kmsg.ProduceResponseTopicPartitionErrorRecord
	// inBatch marks a problem with the batch's header or records (Kafka's
	// log validator), whose answer carries the log start offset; a
	// malformed request (size, CRC, framing) carries -1, as in Kafka.
	inBatch bool
}

func problem(err *kerr.Error, format string, args ...any) batchProblem {
	return batchProblem{err: err, msg: fmt.Sprintf(format, args...)}
}

// validateProduce checks a partition's records the way Kafka does for a
// client's produce, in Kafka's order: the request shape (exactly one v2
// batch), size, the batch header's own consistency, CRC, then every
// record.
func validateProduce(recs []byte, version int16, cfg *produceConfig, nowMs int64, room record.Room) (record.Header, batchProblem) {
	h, p := validateShape(recs, version, cfg)
	if p.err != nil {
		return h, p
	}
	p = validateRecords(recs, h, cfg, nowMs, room)
	p.inBatch = p.err != nil
	return h, p
}

// validateShape enforces what a Produce v3+ request may carry and the
// batch's size and checksum.
func validateShape(recs []byte, version int16, cfg *produceConfig) (record.Header, batchProblem) {
	// Up to the magic byte is what Kafka needs to see a batch at all.
	const upToMagic = 17
	if len(recs) < upToMagic {
		return record.Header{}, problem(kerr.InvalidRecord, "produce v%d needs one record batch, got %d bytes", version, len(recs))
	}
	h, err := record.ParseHeader(recs)
	if err != nil {
		return h, problem(kerr.CorruptMessage, "record batch: %v", err)
	}
	switch {
	case h.BatchLength < record.HeaderLen-12:
		return h, problem(kerr.CorruptMessage, "record batch length %d is below the minimum", h.BatchLength)
	case h.Magic != 2:
		return h, problem(kerr.InvalidRecord, "produce v%d may only carry magic 2 record batches, got magic %d", version, h.Magic)
	case h.TotalSize() > len(recs):
		return h, problem(kerr.InvalidRecord, "record batch of %d bytes is cut off at %d", h.TotalSize(), len(recs))
	case h.TotalSize() < len(recs):
		return h, problem(kerr.InvalidRecord, "produce v%d must carry exactly one record batch per partition", version)
	case version < 7 && h.Compression() == record.CompressionZstd:
		return h, problem(kerr.UnsupportedCompressionType, "zstd needs produce v7 or later, got v%d", version)
	case int64(len(recs)) > cfg.maxMessageBytes:
		return h, problem(kerr.MessageTooLarge, "record batch of %d bytes exceeds max.message.bytes %d", len(recs), cfg.maxMessageBytes)
	case int64(len(recs)) > cfg.segmentBytes:
		return h, problem(kerr.RecordListTooLarge, "record batch of %d bytes exceeds segment.bytes %d", len(recs), cfg.segmentBytes)
	}
	// A record count that does not match the offset range is
	// INVALID_RECORD, as Kafka answers, not a corrupt batch.
	if p := validateHeader(h); p.err != nil {
		p.inBatch = true
		return h, p
	}
	if _, err := record.Validate(recs); err != nil {
		return h, problem(kerr.CorruptMessage, "record batch: %v", err)
	}
	return h, batchProblem{}
}

// validateHeader applies Kafka's client-batch rules to the header.
func validateHeader(h record.Header) batchProblem {
	switch {
	case h.NumRecords <= 0:
		return problem(kerr.InvalidRecord, "invalid record count %d", h.NumRecords)
	case int64(h.LastOffsetDelta)+1 != int64(h.NumRecords):
		return problem(kerr.InvalidRecord, "last offset delta %d does not match %d records", h.LastOffsetDelta, h.NumRecords)
	case h.IsControl():
		return problem(kerr.InvalidRecord, "clients may not write control batches")
	case h.ProducerID >= 0 && h.BaseSequence < 0:
		return problem(kerr.InvalidRecord, "invalid sequence %d for producer %d", h.BaseSequence, h.ProducerID)
	case h.IsTransactional() && (h.ProducerID < 0 || h.BaseSequence < 0):
		return problem(kerr.InvalidRecord, "a transactional batch needs a producer id and sequence, got producer %d sequence %d", h.ProducerID, h.BaseSequence)
	case h.Compression() > record.CompressionZstd:
		return problem(kerr.CorruptMessage, "unknown compression codec %d", h.Compression())
	}
	return batchProblem{}
}

// validateRecords walks every record, inflating compressed batches, as
// Kafka does: framing errors refuse the batch with INVALID_RECORD, and
// per-record rule breaks (keyless records on compacted topics, timestamps
// out of range) are listed as record errors. Inflating takes its memory
// from room's budget; a batch that gets none in time is REQUEST_TIMED_OUT,
// which clients retry.
func validateRecords(batch []byte, h record.Header, cfg *produceConfig, nowMs int64, room record.Room) batchProblem {
	body := batch[record.HeaderLen:]
	if h.Compression() != record.CompressionNone {
		recs, loan, err := record.Inflate(room, h.Compression(), body)
		defer loan.Return()
		if errors.Is(err, record.ErrBudget) {
			return problem(kerr.RequestTimedOut, "record batch: %v", err)
		}
		if err != nil {
			return problem(kerr.CorruptMessage, "record batch: %v", err)
		}
		body = recs
	}
	rc := recordCheck{cfg: cfg, nowMs: nowMs, firstTs: h.FirstTimestamp, batchLAT: h.LogAppendTime()}
	if err := rc.walk(body, h.NumRecords); err != nil {
		return problem(kerr.InvalidRecord, "record batch: %v", err)
	}
	if len(rc.errs) == 0 {
		return batchProblem{}
	}
	if rc.tsErr {
		return batchProblem{err: kerr.InvalidTimestamp, records: rc.errs,
			msg: "one or more records have been rejected due to invalid timestamp"}
	}
	return batchProblem{err: kerr.InvalidRecord, records: rc.errs,
		msg: fmt.Sprintf("%d records have been rejected; first: %s", len(rc.errs), *rc.errs[0].ErrorMessage)}
}
