package broker

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"spool/protocol"
)

// fetchEncodeEnv has one partition of n batches of 10 records each, and a
// fetch reading all of it.
func fetchEncodeEnv(tb testing.TB, n int) (*dataEnv, *protocol.Request) {
	e := newDataEnv(tb, nil)
	id := e.topic("bench", 1, nil)
	for i := 0; i < n; i++ {
		e.append("bench", 0, testBatch(10, 100, int64(i), 1))
	}
	req := oneFetch(17, "bench", id, 0, 0)
	req.MaxBytes, req.Topics[0].Partitions[0].PartitionMaxBytes = 1<<30, 1<<30
	return e, &protocol.Request{Header: protocol.Header{Key: 1, Version: 17}, Listener: "PLAINTEXT", Msg: req}
}

// encodeOnce serves the fetch and drops the body as the connection would
// after writing it.
func encodeOnce(e *dataEnv, req *protocol.Request) int {
	var n int
	e.b.handleFetch(req, func(r protocol.Response) {
		n = r.Body.Len()
		r.Body.Release()
	})
	return n
}

// BenchmarkFetchEncode measures building a fetch response over many
// batches; allocs/op must not grow with the number of records.
func BenchmarkFetchEncode(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("batches=%d", n), func(b *testing.B) {
			e, req := fetchEncodeEnv(b, n)
			b.SetBytes(int64(encodeOnce(e, req)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				encodeOnce(e, req)
			}
		})
	}
}

func TestFetchAllocationsDoNotScaleWithRecords(t *testing.T) {
	allocs := func(n int) float64 {
		e, req := fetchEncodeEnv(t, n)
		return testing.AllocsPerRun(50, func() { encodeOnce(e, req) })
	}
	few, many := allocs(10), allocs(5000)
	if many > few {
		t.Fatalf("%v allocations for 10 batches but %v for 5000", few, many)
	}
}

// BenchmarkRegionSend compares the two ways a fetch body can send a file
// region after some encoded bytes: flush them, then sendfile; or pread the
// region behind them and write once. It sets copyBelow.
func BenchmarkRegionSend(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
		}
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	raw, _ := conn.(*net.TCPConn).SyscallConn()
	f, err := os.Create(filepath.Join(b.TempDir(), "region"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	f.Write(make([]byte, 1<<20))
	header := make([]byte, 64)
	for _, size := range []int{1 << 10, 4 << 10, 8 << 10, 16 << 10, 32 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("sendfile/%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			for range b.N {
				conn.Write(header)
				off, left := int64(0), size
				raw.Write(func(fd uintptr) bool {
					for left > 0 {
						n, err := unix.Sendfile(int(fd), int(f.Fd()), &off, left)
						if err == unix.EAGAIN {
							return false
						}
						if err != nil {
							b.Fatal(err)
						}
						left -= n
					}
					return true
				})
			}
		})
		b.Run(fmt.Sprintf("copy/%dKiB", size>>10), func(b *testing.B) {
			buf := make([]byte, 64+size)
			b.SetBytes(int64(size))
			for range b.N {
				if _, err := f.ReadAt(buf[64:], 0); err != nil {
					b.Fatal(err)
				}
				conn.Write(buf)
			}
		})
	}
}
