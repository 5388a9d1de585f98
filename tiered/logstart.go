package tiered

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// logStartObject holds the partition's log start offset set by
// DeleteRecords, beside its segments, so every broker that loads the
// partition honours it.
const logStartObject = "log-start-offset"

func (p *Partition) loadStart(ctx context.Context) (int64, error) {
	b, err := p.store.Get(ctx, p.key.Dir()+logStartObject)
	var missing *types.NoSuchKey
	if errors.As(err, &missing) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

// SetLogStart raises the remote log start (DeleteRecords): written to the
// bucket first, then readers stop at it; the segments wholly below it are
// for the leader to delete (Expired).
func (p *Partition) SetLogStart(ctx context.Context, offset int64) error {
	p.mu.RLock()
	cur := p.start
	p.mu.RUnlock()
	if offset <= cur {
		return nil
	}
	if err := p.store.PutBytes(ctx, p.key.Dir()+logStartObject, []byte(strconv.FormatInt(offset, 10))); err != nil {
		return err
	}
	p.mu.Lock()
	p.start = max(p.start, offset)
	p.mu.Unlock()
	return nil
}

// BelowStart lists the segments wholly below the DeleteRecords start.
func (p *Partition) BelowStart() []*Segment {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out []*Segment
	for _, s := range p.segs {
		if s.EndOffset < p.start {
			out = append(out, s)
		}
	}
	return out
}
