package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/twmb/franz-go/pkg/kmsg"
	"golang.org/x/sys/unix"
)

// Stats counts how response bytes left the process (a plaintext fetch should
// move record data with sendfile; copied bytes show where it did not) and
// what happened to connections and bad input.
type Stats struct {
	SendfileBytes atomic.Int64
	CopiedBytes   atomic.Int64
	WrittenBytes  atomic.Int64 // encoded response bytes (headers, metadata)

	// Connections.
	ConnectionsAccepted  atomic.Int64
	ConnectionsRejected  atomic.Int64 // over max.connections or max.connections.per.ip
	ConnectionsThrottled atomic.Int64 // over an ip's connection_creation_rate: held, then closed
	AcceptThrottled      atomic.Int64 // accepts delayed by max.connection.creation.rate
	AcceptErrors         atomic.Int64 // accept(2) failures (EMFILE, ...) survived
	IdleClosed           atomic.Int64 // closed after connections.max.idle.ms
	SlowClosed           atomic.Int64 // a frame took longer than socket.request.read.timeout.ms
	// BadFrames counts requests that closed their connection: oversized,
	// unparseable, an unknown key or version, a body that does not decode.
	BadFrames atomic.Int64
	// TLSFailed counts failed TLS handshakes (a plaintext client on a TLS
	// port, an untrusted certificate); AuthFailed failed authentications.
	TLSFailed  atomic.Int64
	AuthFailed atomic.Int64
	// ThrottleMutes counts connections muted after a throttled response
	// (KIP-219).
	ThrottleMutes atomic.Int64
}

// Writer writes responses to one connection, buffering small writes and
// moving file regions with sendfile when the connection is TCP.
type Writer struct {
	nc    net.Conn
	raw   syscall.RawConn // nil when the connection cannot sendfile
	buf   []byte
	stats *Stats
}

const writerFlushAt = 64 << 10

func newWriter(nc net.Conn, stats *Stats) *Writer {
	w := &Writer{nc: nc, stats: stats, buf: make([]byte, 0, 4096)}
	if tc, ok := nc.(*net.TCPConn); ok {
		if rc, err := tc.SyscallConn(); err == nil {
			w.raw = rc
		}
	}
	return w
}

// Write buffers b.
func (w *Writer) Write(b []byte) (int, error) {
	w.buf = append(w.buf, b...)
	w.stats.WrittenBytes.Add(int64(len(b)))
	if len(w.buf) >= writerFlushAt {
		return len(b), w.Flush()
	}
	return len(b), nil
}

// appendMsg encodes a kmsg response with its header straight into the
// write buffer.
func (w *Writer) appendMsg(h Header, m kmsg.Response) error {
	start := len(w.buf)
	w.buf = appendFrameHeader(w.buf, h.CorrelationID, responseHeaderFlexible(h.Key, m.IsFlexible()))
	w.buf = m.AppendTo(w.buf)
	binary.BigEndian.PutUint32(w.buf[start:], uint32(len(w.buf)-start-4))
	w.stats.WrittenBytes.Add(int64(len(w.buf) - start))
	if len(w.buf) >= writerFlushAt {
		return w.Flush()
	}
	return nil
}

// Flush writes what is buffered.
func (w *Writer) Flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.nc.Write(w.buf)
	if cap(w.buf) > 1<<20 {
		w.buf = make([]byte, 0, 4096)
	} else {
		w.buf = w.buf[:0]
	}
	return err
}

// errShortSend means a file region could not be sent whole; the frame is
// broken and the connection must close.
var errShortSend = errors.New("file region sent short")

// SendFile writes n bytes of f starting at off. It uses sendfile(2) with an
// explicit offset, which neither copies through user space nor moves the
// file's shared offset (other readers share the descriptor).
func (w *Writer) SendFile(f *os.File, off int64, n int) error {
	if n == 0 {
		return nil
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if w.raw == nil {
		return w.copyFile(f, off, n)
	}
	return w.sendfile(f, off, n)
}

// sendfile is SendFile's loop, apart so that its offset (which the raw
// write closure captures) escapes only on this path.
func (w *Writer) sendfile(f *os.File, off int64, n int) error {
	fd := int(f.Fd())
	remaining := n
	var serr error
	werr := w.raw.Write(func(sock uintptr) bool {
		for remaining > 0 {
			sent, err := unix.Sendfile(int(sock), fd, &off, remaining)
			if sent > 0 {
				remaining -= sent
				w.stats.SendfileBytes.Add(int64(sent))
			}
			switch {
			case err == unix.EAGAIN:
				return false // wait until the socket is writable again
			case err == unix.EINTR:
				continue
			case err != nil:
				serr = err
				return true
			case sent == 0:
				serr = errShortSend // the file is shorter than the region
				return true
			}
		}
		return true
	})
	if werr != nil {
		return werr
	}
	if serr != nil {
		return fmt.Errorf("sendfile: %w", serr)
	}
	return nil
}

// copyBufs are copyFile's buffers: a TLS fetch copies every region, and
// must not allocate for each.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// copyFile is the path for connections that cannot sendfile: TLS, whose
// records must be encrypted in user space (Kafka cannot sendfile over TLS
// either), and connections without a socket descriptor.
func (w *Writer) copyFile(f *os.File, off int64, n int) error {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	for n > 0 {
		chunk := buf[:min(n, len(buf))]
		read, err := f.ReadAt(chunk, off)
		if read < len(chunk) {
			if err == nil || err == io.EOF {
				err = errShortSend
			}
			return err
		}
		if _, err := w.nc.Write(chunk); err != nil {
			return err
		}
		w.stats.CopiedBytes.Add(int64(read))
		off += int64(read)
		n -= read
	}
	return nil
}

// CountCopied records record bytes that a body copied through user space
// (small regions are cheaper to copy than to sendfile).
func (w *Writer) CountCopied(n int) { w.stats.CopiedBytes.Add(int64(n)) }
