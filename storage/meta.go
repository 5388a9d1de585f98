package storage

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// MetaPropertiesFile is the file marking a formatted log dir.
const MetaPropertiesFile = "meta.properties"

// MetaProperties identify the cluster and node a log dir belongs to.
type MetaProperties struct {
	ClusterID   string
	NodeID      int32
	DirectoryID string
}

// ErrNotFormatted means a log dir has no meta.properties.
var ErrNotFormatted = errors.New("not formatted")

// RandomUUID returns a random id in Kafka's text form: 16 random bytes,
// URL-safe base64 without padding (22 characters).
func RandomUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ValidClusterID reports whether id is a Kafka uuid in text form.
func ValidClusterID(id string) error {
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(b) != 16 {
		return fmt.Errorf("cluster id %q is not a 22-character base64url uuid (make one with `spool storage random-uuid`)", id)
	}
	return nil
}

// ReadMetaProperties reads dir/meta.properties; ErrNotFormatted if absent.
func ReadMetaProperties(dir string) (MetaProperties, error) {
	raw, err := os.ReadFile(filepath.Join(dir, MetaPropertiesFile))
	if errors.Is(err, os.ErrNotExist) {
		return MetaProperties{}, fmt.Errorf("%s: %w", dir, ErrNotFormatted)
	}
	if err != nil {
		return MetaProperties{}, err
	}
	var mp MetaProperties
	found := map[string]bool{}
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		found[k] = true
		switch k {
		case "cluster.id":
			mp.ClusterID = v
		case "node.id":
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil {
				return mp, fmt.Errorf("%s/%s: bad node.id %q", dir, MetaPropertiesFile, v)
			}
			mp.NodeID = int32(n)
		case "directory.id":
			mp.DirectoryID = v
		case "version":
			if v != "1" {
				return mp, fmt.Errorf("%s/%s: unsupported version %q", dir, MetaPropertiesFile, v)
			}
		}
	}
	if !found["cluster.id"] || !found["node.id"] {
		return mp, fmt.Errorf("%s/%s: cluster.id and node.id are required", dir, MetaPropertiesFile)
	}
	return mp, nil
}

// WriteMetaProperties writes dir/meta.properties atomically, creating dir.
func WriteMetaProperties(dir string, mp MetaProperties) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if mp.DirectoryID == "" {
		mp.DirectoryID = RandomUUID()
	}
	body := fmt.Sprintf("#\n#Written by spool storage format\ncluster.id=%s\ndirectory.id=%s\nnode.id=%d\nversion=1\n",
		mp.ClusterID, mp.DirectoryID, mp.NodeID)
	return WriteFileAtomic(filepath.Join(dir, MetaPropertiesFile), []byte(body))
}

// WriteFileAtomic replaces path with data so that a crash leaves either the
// old or the new content: write a temp file, fsync it, rename, fsync the dir.
func WriteFileAtomic(path string, data []byte) error {
	return WriteFileAtomicWith(path, data, (*os.File).Sync)
}

// WriteFileAtomicWith is WriteFileAtomic with syncFile making the temp file
// durable before the rename (the directory is then fsynced as always).
// A nil syncFile syncs neither file nor directory: the rename still never
// exposes a half-written file to this run, but a crash may leave the file
// missing, empty or torn, so readers must detect that (a checksum) and the
// caller must make it durable some other way (a syncfs of the log dir
// before a clean-shutdown record) or not rely on it.
func WriteFileAtomicWith(path string, data []byte, syncFile func(*os.File) error) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if syncFile != nil {
		if err := syncFile(f); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if syncFile == nil {
		return nil
	}
	return SyncDir(filepath.Dir(path))
}

// SyncDir fsyncs a directory so a rename or create in it is durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
