package tiered

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Store is the bucket: whole-file and ranged object I/O, each call bounded
// by the api call timeout. The SDK's standard retryer backs off and
// retries 5xx answers, throttling and connection errors within it.
type Store struct {
	c        *s3.Client
	bucket   string
	partSize int64
	timeout  time.Duration
	stats    *Stats
}

// Object is one listed key and its size.
type Object struct {
	Key  string
	Size int64
}

// NewStore builds the S3 client: the configured key pair, else the SDK's
// default credential chain (environment, shared files, instance roles).
func NewStore(ctx context.Context, s Settings, stats *Stats) (*Store, error) {
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(s.Region)}
	if s.AccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, "")))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("object store credentials: %w", err)
	}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = s.PathStyle
		if s.Endpoint != "" {
			o.BaseEndpoint = aws.String(s.Endpoint)
		}
		// S3-compatible stores often lack the streaming checksum
		// trailers newer SDKs send by default; send them only where
		// S3 requires one.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	return &Store{c: c, bucket: s.Bucket, partSize: s.PartSize, timeout: s.CallTimeout, stats: stats}, nil
}

func (st *Store) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, st.timeout)
}

// PutBytes writes one small object.
func (st *Store) PutBytes(ctx context.Context, key string, b []byte) error {
	ctx, cancel := st.call(ctx)
	defer cancel()
	_, err := st.c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &st.bucket, Key: &key, Body: bytesReader(b), ContentLength: aws.Int64(int64(len(b))),
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	st.stats.BytesUploaded.Add(int64(len(b)))
	return nil
}

// PutFile uploads a file, in parts of the configured size when larger. A
// missing file uploads as an empty object when missingOK.
func (st *Store) PutFile(ctx context.Context, key, path string, missingOK bool) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) && missingOK {
		return st.PutBytes(ctx, key, nil)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() > st.partSize {
		return st.putMultipart(ctx, key, f, fi.Size())
	}
	cctx, cancel := st.call(ctx)
	defer cancel()
	_, err = st.c.PutObject(cctx, &s3.PutObjectInput{
		Bucket: &st.bucket, Key: &key, Body: io.NewSectionReader(f, 0, fi.Size()), ContentLength: aws.Int64(fi.Size()),
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	st.stats.BytesUploaded.Add(fi.Size())
	return nil
}

func (st *Store) putMultipart(ctx context.Context, key string, f *os.File, size int64) error {
	cctx, cancel := st.call(ctx)
	up, err := st.c.CreateMultipartUpload(cctx, &s3.CreateMultipartUploadInput{Bucket: &st.bucket, Key: &key})
	cancel()
	if err != nil {
		return fmt.Errorf("start multipart %s: %w", key, err)
	}
	var parts []types.CompletedPart
	for off, n := int64(0), int32(1); off < size; off, n = off+st.partSize, n+1 {
		l := min(st.partSize, size-off)
		cctx, cancel := st.call(ctx)
		out, err := st.c.UploadPart(cctx, &s3.UploadPartInput{
			Bucket: &st.bucket, Key: &key, UploadId: up.UploadId, PartNumber: aws.Int32(n),
			Body: io.NewSectionReader(f, off, l), ContentLength: aws.Int64(l),
		})
		cancel()
		if err != nil {
			st.abort(ctx, key, up.UploadId)
			return fmt.Errorf("upload part %d of %s: %w", n, key, err)
		}
		st.stats.BytesUploaded.Add(l)
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
	}
	cctx, cancel = st.call(ctx)
	defer cancel()
	_, err = st.c.CompleteMultipartUpload(cctx, &s3.CompleteMultipartUploadInput{
		Bucket: &st.bucket, Key: &key, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		st.abort(ctx, key, up.UploadId)
		return fmt.Errorf("complete multipart %s: %w", key, err)
	}
	return nil
}

// abort gives up a multipart upload so its parts do not linger; a failure
// here is left to the bucket's lifecycle rules.
func (st *Store) abort(ctx context.Context, key string, id *string) {
	cctx, cancel := st.call(ctx)
	defer cancel()
	_, _ = st.c.AbortMultipartUpload(cctx, &s3.AbortMultipartUploadInput{Bucket: &st.bucket, Key: &key, UploadId: id})
}

// Get reads a whole object.
func (st *Store) Get(ctx context.Context, key string) ([]byte, error) {
	return st.get(ctx, key, nil)
}

// GetRange reads n bytes at off (fewer at the object's end).
func (st *Store) GetRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	r := fmt.Sprintf("bytes=%d-%d", off, off+n-1)
	return st.get(ctx, key, &r)
}

func (st *Store) get(ctx context.Context, key string, rng *string) ([]byte, error) {
	ctx, cancel := st.call(ctx)
	defer cancel()
	out, err := st.c.GetObject(ctx, &s3.GetObjectInput{Bucket: &st.bucket, Key: &key, Range: rng})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	st.stats.BytesFetched.Add(int64(len(b)))
	return b, nil
}

// List returns every object under prefix.
func (st *Store) List(ctx context.Context, prefix string) ([]Object, error) {
	var out []Object
	p := s3.NewListObjectsV2Paginator(st.c, &s3.ListObjectsV2Input{Bucket: &st.bucket, Prefix: &prefix})
	for p.HasMorePages() {
		cctx, cancel := st.call(ctx)
		page, err := p.NextPage(cctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, Object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size)})
		}
	}
	return out, nil
}

// Delete removes objects; deleting a missing key succeeds, so a delete
// retried after a crash is harmless.
func (st *Store) Delete(ctx context.Context, keys []string) error {
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		ids := make([]types.ObjectIdentifier, n)
		for i, k := range keys[:n] {
			ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		cctx, cancel := st.call(ctx)
		out, err := st.c.DeleteObjects(cctx, &s3.DeleteObjectsInput{Bucket: &st.bucket, Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		cancel()
		if err != nil {
			return fmt.Errorf("delete %d objects: %w", n, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("delete %s: %s %s", aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
		}
		keys = keys[n:]
	}
	return nil
}
