package protocol

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// tlsPair returns the server side of a TLS connection over loopback whose
// client side is drained in the background, and the plain TCP pair for
// comparison.
func tlsPair(tb testing.TB, useTLS bool) net.Conn {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		acc <- c
	}()
	cc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	sc := <-acc
	tb.Cleanup(func() { sc.Close(); cc.Close() })
	if !useTLS {
		go drain(cc)
		return sc
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	srv := tls.Server(sc, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	cli := tls.Client(cc, &tls.Config{InsecureSkipVerify: true})
	go func() {
		// After the handshake, drain the encrypted bytes without
		// decrypting them: the reader then allocates nothing, so an
		// allocation count measures the sender alone.
		if cli.Handshake() == nil {
			drain(cc)
		}
	}()
	if err := srv.Handshake(); err != nil {
		tb.Fatal(err)
	}
	return srv
}

func regionFile(tb testing.TB, n int) *os.File {
	f, err := os.Create(filepath.Join(tb.TempDir(), "segment.log"))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := f.Write(make([]byte, n)); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}

// A fetch over TLS cannot use sendfile; it copies each region through a
// pooled buffer and must allocate nothing for it.
func TestTLSRegionSendAllocatesNothing(t *testing.T) {
	nc := tlsPair(t, true)
	f := regionFile(t, 1<<20)
	w := newWriter(nc, new(Stats))
	if w.raw != nil {
		t.Fatal("a TLS connection must not take the sendfile path")
	}
	w.SendFile(f, 0, 256<<10) // warm the buffer pool
	allocs := testing.AllocsPerRun(50, func() {
		if err := w.SendFile(f, 4096, 256<<10); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 && !raceEnabled {
		t.Fatalf("%.1f allocations per 256 KiB region over TLS, want 0", allocs)
	}
	if w.stats.CopiedBytes.Load() == 0 || w.stats.SendfileBytes.Load() != 0 {
		t.Fatalf("copied %d, sendfile %d: TLS bytes must be counted as copied", w.stats.CopiedBytes.Load(), w.stats.SendfileBytes.Load())
	}
}

// BenchmarkTLSRegionSend sends a region of N 1 KiB records per operation
// over TLS (copied and encrypted, as Kafka must too); allocations must not
// grow with N. BenchmarkPlainRegionSend is the same over PLAINTEXT
// (sendfile), for the throughput next to it.
func BenchmarkTLSRegionSend(b *testing.B) { benchRegionSend(b, true) }

func BenchmarkPlainRegionSend(b *testing.B) { benchRegionSend(b, false) }

func benchRegionSend(b *testing.B, useTLS bool) {
	for _, records := range []int{64, 1024} {
		b.Run(fmt.Sprintf("records=%d", records), func(b *testing.B) {
			nc := tlsPair(b, useTLS)
			size := records << 10
			f := regionFile(b, size)
			w := newWriter(nc, new(Stats))
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := w.SendFile(f, 0, size); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func drain(c net.Conn) {
	buf := make([]byte, 256<<10)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}
