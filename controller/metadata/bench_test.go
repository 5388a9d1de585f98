package metadata

import (
	"encoding/binary"
	"fmt"
	"testing"
)

// bigImage builds topics x partitions, three replicas each.
func bigImage(tb testing.TB, topics, partitions int) (*Image, [][16]byte) {
	tb.Helper()
	d := NewDelta(Empty())
	ids := make([][16]byte, topics)
	for i := range ids {
		binary.BigEndian.PutUint64(ids[i][8:], uint64(i)+1)
		if err := d.Replay(&TopicRecord{Name: fmt.Sprintf("topic-%d", i), TopicID: ids[i]}); err != nil {
			tb.Fatal(err)
		}
		for p := 0; p < partitions; p++ {
			rs := []int32{int32(p % 5), int32(p+1) % 5, int32(p+2) % 5}
			r := &PartitionRecord{PartitionID: int32(p), TopicID: ids[i], Replicas: rs, ISR: rs, Leader: rs[0]}
			if err := d.Replay(r); err != nil {
				tb.Fatal(err)
			}
		}
	}
	d.SetOffset(0, 1)
	return d.Apply(), ids
}

// BenchmarkApplyOnePartitionChange measures publishing a delta that moves
// one partition's leader in an image of 100,000 topics x 10 partitions.
func BenchmarkApplyOnePartitionChange(b *testing.B) {
	img, ids := bigImage(b, 100_000, 10)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		d := NewDelta(img)
		r := NewPartitionChangeRecord(ids[(i*7919)%len(ids)], int32(i%10))
		r.Leader = int32(i % 5)
		if err := d.Replay(r); err != nil {
			b.Fatal(err)
		}
		d.SetOffset(img.Offset+1, 1)
		img = d.Apply()
	}
}
