package storage

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"spool/record"
)

// batchScanner reads a segment's batches in order through one buffer. The
// callback sees each header first and says whether it wants the body, so
// sections the clean only needs headers of are skipped cheaply.
type batchScanner struct {
	r   *bufio.Reader
	buf []byte
}

func newBatchScanner() *batchScanner {
	return &batchScanner{r: bufio.NewReaderSize(nil, 1<<20)}
}

// What a scan does with a batch once it has seen the header.
type scanAction int

const (
	scanSkip scanAction = iota // skip the body
	scanBody                   // read the body and pass the batch on
	scanStop                   // end the scan before this batch
)

// scan reads size bytes of ref's file as batches, asking onHeader what to
// do with each and giving onBody the batches it asked for. It checks the
// context every few batches so a broker shutting down is not held up.
func (sc *batchScanner) scan(ctx context.Context, ref *FileRef, size int64,
	onHeader func(record.Header) (scanAction, error), onBody func(record.Header, []byte) error) error {
	sc.r.Reset(io.NewSectionReader(ref.f, 0, size))
	if cap(sc.buf) < record.HeaderLen {
		sc.buf = make([]byte, 64<<10)
	}
	for pos, n := int64(0), 0; pos < size; n++ {
		if n%256 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		hdr := sc.buf[:record.HeaderLen]
		if _, err := io.ReadFull(sc.r, hdr); err != nil {
			return fmt.Errorf("read %s at %d: %w", ref.f.Name(), pos, err)
		}
		h, _ := record.ParseHeader(hdr)
		total := int64(h.TotalSize())
		if h.Magic != 2 || h.BatchLength < record.MinBatchLength || pos+total > size {
			return fmt.Errorf("%w: %s at byte %d: bad batch header", ErrLogCorrupt, ref.f.Name(), pos)
		}
		pos += total
		act, err := onHeader(h)
		switch {
		case err != nil:
			return err
		case act == scanStop:
			return nil
		case act == scanSkip:
			if _, err := sc.r.Discard(int(total) - record.HeaderLen); err != nil {
				return fmt.Errorf("read %s: %w", ref.f.Name(), err)
			}
			continue
		}
		body, err := sc.readBody(int(total))
		if err != nil {
			return fmt.Errorf("read %s: %w", ref.f.Name(), err)
		}
		if err := onBody(h, body); err != nil {
			return err
		}
	}
	return nil
}

// readBody completes the batch whose header is in buf[:record.HeaderLen].
func (sc *batchScanner) readBody(total int) ([]byte, error) {
	if cap(sc.buf) < total {
		nb := make([]byte, total, total+total/4)
		copy(nb, sc.buf[:record.HeaderLen])
		sc.buf = nb
	}
	b := sc.buf[:total]
	_, err := io.ReadFull(sc.r, b[record.HeaderLen:])
	return b, err
}
