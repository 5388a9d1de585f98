package broker

import (
	"context"
	"os"
	"strconv"
	"strings"

	"spool/tiered"
)

// copySegments uploads, oldest first, the closed segments past the remote
// end whose every offset is below the high watermark and the last stable
// offset (Kafka copies nothing a consumer could not yet read). It stops at
// the first failure: segments go up in order, and the next run retries.
// copied runs after each copy, so local retention keeps up during a long
// backlog.
func (b *Broker) copySegments(ctx context.Context, p *partition, v *tiered.Partition, copied func()) error {
	segs, err := p.log.ClosedSegments()
	if err != nil {
		return err
	}
	_, end, _, ok := v.Bounds()
	if !ok {
		end = -1
	}
	upTo := min(p.HighWatermark(), p.lastStableOffset())
	for _, cs := range segs {
		if cs.Next-1 <= end {
			continue
		}
		if leading, _ := p.leadership(); cs.Next > upTo || ctx.Err() != nil || !leading {
			return nil // a new leader copies from where the bucket ends
		}
		epochs, starts := p.epochs.Slice(cs.Base, cs.Next)
		in := tiered.CopyInput{Segment: cs, BrokerID: b.cfg.NodeID}
		for i := range epochs {
			in.Epochs = append(in.Epochs, tiered.EpochStart{Epoch: epochs[i], Start: starts[i]})
		}
		in.SnapshotPath, in.SnapshotOffset = producerSnapshotFrom(p.log.Dir(), cs.Next)
		if _, err := v.Copy(ctx, in); err != nil {
			return err
		}
		p.noteRemote(v)
		copied()
	}
	return nil
}

// producerSnapshotFrom is the oldest producer snapshot at or after offset:
// the one taken when the segment ending there rolled, which holds the
// producer state to the segment's end plus the batch that rolled it.
func producerSnapshotFrom(dir string, offset int64) (string, int64) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", -1
	}
	best := int64(-1)
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), snapshotSuffix)
		if !ok {
			continue
		}
		off, err := strconv.ParseInt(name, 10, 64)
		if err == nil && off >= offset && (best < 0 || off < best) {
			best = off
		}
	}
	if best < 0 {
		return "", -1
	}
	return snapshotPath(dir, best), best
}
