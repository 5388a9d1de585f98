package tiered

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// State is a remote segment's lifecycle state, with Kafka's names
// (RemoteLogSegmentState). DELETE_SEGMENT_FINISHED is the manifest's
// absence.
type State string

const (
	CopyStarted   State = "COPY_SEGMENT_STARTED"
	CopyFinished  State = "COPY_SEGMENT_FINISHED"
	DeleteStarted State = "DELETE_SEGMENT_STARTED"
)

// EpochStart is one leader epoch and the first offset written in it.
type EpochStart struct {
	Epoch int32 `json:"epoch"`
	Start int64 `json:"startOffset"`
}

// Segment is one remote segment's metadata (Kafka's
// RemoteLogSegmentMetadata), stored as JSON in the segment's manifest
// object beside its data.
type Segment struct {
	ID           string       `json:"segmentId"`
	TopicID      string       `json:"topicId"`
	Topic        string       `json:"topic"`
	Partition    int32        `json:"partition"`
	StartOffset  int64        `json:"startOffset"`
	EndOffset    int64        `json:"endOffset"`
	MaxTimestamp int64        `json:"maxTimestampMs"`
	SizeBytes    int64        `json:"segmentSizeInBytes"`
	LeaderEpochs []EpochStart `json:"segmentLeaderEpochs"`
	// ProducerSnapshotOffset is the offset the uploaded producer state is
	// complete up to (the snapshot taken when the segment rolled), -1 if
	// none was on disk.
	ProducerSnapshotOffset int64 `json:"producerSnapshotOffset"`
	TxnIndex               bool  `json:"hasTxnIndex"`
	State                  State `json:"state"`
	EventTimestamp         int64 `json:"eventTimestampMs"`
	BrokerID               int32 `json:"brokerId"`
}

// Object-name suffixes of a segment's files. The manifest suffix is the
// one Aiven's plugin uses for its own per-segment manifest.
const (
	sufLog      = ".log"
	sufIndex    = ".index"
	sufTime     = ".timeindex"
	sufTxn      = ".txnindex"
	sufSnapshot = ".snapshot"
	sufEpochs   = ".leader-epoch-checkpoint"
	sufManifest = ".rsm-manifest"
)

var dataSuffixes = []string{sufLog, sufIndex, sufTime, sufTxn, sufSnapshot, sufEpochs}

// PartitionKey names a partition in the bucket. The topic id is in the
// key so a deleted and recreated topic of the same name never mixes with
// the old one's objects.
type PartitionKey struct {
	Prefix    string
	Topic     string
	TopicID   [16]byte
	Partition int32
}

// TopicIDString is Kafka's text form of a topic id (URL-safe base64).
func TopicIDString(id [16]byte) string { return base64.RawURLEncoding.EncodeToString(id[:]) }

// Dir is the key prefix of every object of the partition:
// <prefix><topic>-<topic id>/<partition>/.
func (k PartitionKey) Dir() string {
	return k.Prefix + k.Topic + "-" + TopicIDString(k.TopicID) + "/" + strconv.Itoa(int(k.Partition)) + "/"
}

// object is a segment file's key: <dir><20-digit start offset>-<id><suffix>,
// so a listing sorts by offset.
func (k PartitionKey) object(s *Segment, suffix string) string {
	return fmt.Sprintf("%s%020d-%s%s", k.Dir(), s.StartOffset, s.ID, suffix)
}

func encodeManifest(s *Segment) ([]byte, error) { return json.Marshal(s) }

func decodeManifest(b []byte) (*Segment, error) {
	var s Segment
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	switch s.State {
	case CopyStarted, CopyFinished, DeleteStarted:
	default:
		return nil, fmt.Errorf("unknown state %q", s.State)
	}
	return &s, nil
}

func isManifest(key string) bool { return strings.HasSuffix(key, sufManifest) }

// epochCheckpoint is the segment's slice of the leader epoch lineage in
// Kafka's leader-epoch-checkpoint text format.
func epochCheckpoint(es []EpochStart) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "0\n%d\n", len(es))
	for _, e := range es {
		fmt.Fprintf(&b, "%d %d\n", e.Epoch, e.Start)
	}
	return []byte(b.String())
}
