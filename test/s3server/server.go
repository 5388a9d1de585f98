// Package s3server starts a real S3-compatible server for the tiered
// storage tests: versitygw (posix backend, files under a temporary
// directory) built by scripts/install-s3-server.sh into bin/, on an
// ephemeral loopback port, with one bucket. Clients reach it through a
// proxy in this process whose switch answers every request 503, as an
// unavailable store does.
package s3server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Credentials of the server's root user.
const (
	AccessKey = "spool"
	SecretKey = "spool-secret"
	Region    = "us-east-1"
)

// Server is one running versitygw with one bucket.
type Server struct {
	URL    string // the proxy's URL, what clients use
	Bucket string
	Down   atomic.Bool // while set, the proxy answers 503
	client *s3.Client  // straight to the server, past the switch
	out    lockedBuffer
}

// lockedBuffer collects the server's output while tests read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Binary finds the versitygw binary: $SPOOL_S3_SERVER, else bin/versitygw
// at the module root.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SPOOL_S3_SERVER"); p != "" {
		return p
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "bin", "versitygw")
			if _, err := os.Stat(p); err != nil {
				t.Fatalf("no S3 server at %s: run scripts/install-s3-server.sh (make s3-server)", p)
			}
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory; set SPOOL_S3_SERVER")
		}
		dir = parent
	}
}

// Start runs the server with a fresh bucket; cleanup stops it.
func Start(t testing.TB, bucket string) *Server {
	t.Helper()
	s := &Server{Bucket: bucket}
	root := t.TempDir()
	addr := freeAddr(t)
	cmd := exec.Command(Binary(t), "--port", addr, "--access", AccessKey, "--secret", SecretKey,
		"--region", Region, "--quiet", "posix", root)
	cmd.Stdout, cmd.Stderr = &s.out, &s.out
	// The server must not outlive a test binary that is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	waitListening(t, addr, s)
	target := &url.URL{Scheme: "http", Host: addr}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		// A client that gave up on its request is no server fault.
		if !errors.Is(err, context.Canceled) {
			fmt.Fprintf(&s.out, "proxy: %s %s: %v\n", r.Method, r.URL.Path, err)
		}
		w.WriteHeader(http.StatusBadGateway)
	}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Down.Load() {
			http.Error(w, "<Error><Code>ServiceUnavailable</Code></Error>", http.StatusServiceUnavailable)
			return
		}
		// The request keeps its Host header: it is part of the signature.
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	s.URL = front.URL
	s.client = s3.New(s3.Options{
		BaseEndpoint: aws.String("http://" + addr), Region: Region, UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket %s: %v\n%s", bucket, err, s.out.String())
	}
	return s
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func waitListening(t testing.TB, addr string, s *Server) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("S3 server not listening on %s: %v\n%s", addr, err, s.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Keys lists the bucket's object keys ending in suffix, sorted. It goes
// to the server directly, so it works while the switch is down.
func (s *Server) Keys(t testing.TB, suffix string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list %s: %v", s.Bucket, err)
		}
		for _, o := range page.Contents {
			if k := aws.ToString(o.Key); strings.HasSuffix(k, suffix) {
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Get reads one object whole.
func (s *Server) Get(t testing.TB, key string) []byte {
	t.Helper()
	b, ok := s.Lookup(t, key)
	if !ok {
		t.Fatalf("get %s: no such key", key)
	}
	return b
}

// Lookup reads one object whole, or reports it absent (a key listed a
// moment ago may be deleted by now).
func (s *Server) Lookup(t testing.TB, key string) ([]byte, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	var missing *types.NoSuchKey
	if errors.As(err, &missing) {
		return nil, false
	}
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer o.Body.Close()
	b, err := io.ReadAll(o.Body)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return b, true
}

// String is the server's own output, for failure messages.
func (s *Server) String() string { return fmt.Sprintf("versitygw output:\n%s", s.out.String()) }
