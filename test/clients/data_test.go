package clients_test

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"spool/test/clients/internal/spec"
)

// Values are printable ASCII without spaces or newlines so that line-based
// tools (kcat) can carry them unchanged; they still exercise every size.

// basicRecords is what the produce and consume cells move: keyed records
// with headers (one empty, one repeated), a null value, an empty value, a
// null key, and values of 1 KiB, 100 KiB and 1 MiB.
func basicRecords() []spec.Record {
	var out []spec.Record
	for p := int32(0); p < 3; p++ {
		out = append(out,
			spec.Record{Partition: p, Key: fmt.Appendf(nil, "key-%d-0", p), Value: fmt.Appendf(nil, "value-%d-0", p),
				Headers: []spec.Header{{Key: "trace", Value: fmt.Appendf(nil, "id-%d", p)}, {Key: "empty", Value: []byte{}}}},
			spec.Record{Partition: p, Key: fmt.Appendf(nil, "key-%d-1", p), Value: nil,
				Headers: []spec.Header{{Key: "kind", Value: []byte("tombstone")}}},
			spec.Record{Partition: p, Key: fmt.Appendf(nil, "key-%d-2", p), Value: []byte{}},
			spec.Record{Partition: p, Key: nil, Value: fmt.Appendf(nil, "keyless-%d", p)},
			spec.Record{Partition: p, Key: fmt.Appendf(nil, "key-%d-4", p), Value: []byte("repeated-headers"),
				Headers: []spec.Header{{Key: "dup", Value: []byte("1")}, {Key: "dup", Value: []byte("2")}}},
		)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for p, size := range []int{1 << 10, 100 << 10, 1 << 20} {
		out = append(out, spec.Record{Partition: int32(p), Key: fmt.Appendf(nil, "big-%d", size), Value: randomText(rng, size),
			Headers: []spec.Header{{Key: "size", Value: fmt.Appendf(nil, "%d", size)}}})
	}
	return out
}

// compressibleRecords gives every codec something to shrink, including one
// 256 KiB value that spans many compression blocks.
func compressibleRecords() []spec.Record {
	var out []spec.Record
	for p := int32(0); p < 3; p++ {
		for i := 0; i < 8; i++ {
			line := fmt.Sprintf("partition-%d-record-%d-spool-compresses-this-line.", p, i)
			out = append(out, spec.Record{Partition: p, Key: fmt.Appendf(nil, "c-%d-%d", p, i),
				Value:   []byte(strings.Repeat(line, 4096/len(line))),
				Headers: []spec.Header{{Key: "n", Value: fmt.Appendf(nil, "%d", i)}}})
		}
		out = append(out,
			spec.Record{Partition: p, Key: fmt.Appendf(nil, "c-%d-null", p), Value: nil},
			spec.Record{Partition: p, Key: fmt.Appendf(nil, "c-%d-empty", p), Value: []byte{}},
		)
	}
	out = append(out, spec.Record{Partition: 0, Key: []byte("c-big"), Value: []byte(strings.Repeat("0123456789abcdef", 16<<10))})
	return out
}

// resumeRecords is six small records per partition for commit and resume.
func resumeRecords() []spec.Record {
	var out []spec.Record
	for i := 0; i < 6; i++ {
		for p := int32(0); p < 3; p++ {
			out = append(out, spec.Record{Partition: p, Key: fmt.Appendf(nil, "r-%d-%d", p, i), Value: fmt.Appendf(nil, "resume-%d-%d", p, i),
				Headers: []spec.Header{{Key: "i", Value: fmt.Appendf(nil, "%d", i)}}})
		}
	}
	return out
}

// timedRecords are ten records one second apart in partition 0, starting at
// t0, produced as one batch so that a lookup must look inside the batch.
func timedRecords(t0 int64) []spec.Record {
	var out []spec.Record
	for i := int64(0); i < 10; i++ {
		out = append(out, spec.Record{Partition: 0, Key: fmt.Appendf(nil, "t-%d", i), Value: fmt.Appendf(nil, "at-%d", t0+i*1000), Timestamp: t0 + i*1000})
	}
	return out
}

func randomText(rng *rand.Rand, n int) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return b
}
