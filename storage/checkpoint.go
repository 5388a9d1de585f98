package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// writeFileAtomic replaces dir/name durably (see WriteFileAtomic), adding
// the context the log's errors carry.
func writeFileAtomic(dir, name string, data []byte) error {
	if err := WriteFileAtomic(filepath.Join(dir, name), data); err != nil {
		_ = os.Remove(filepath.Join(dir, name+tmpSuffix))
		return fmt.Errorf("write %s in %s: %w", name, dir, err)
	}
	return nil
}

func syncDir(dir string) error {
	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// writeOffsetFile stores one offset as text, so an operator can read it.
func writeOffsetFile(dir, name string, off int64) error {
	return writeFileAtomic(dir, name, []byte(strconv.FormatInt(off, 10)+"\n"))
}

// readOffsetFile returns the stored offset; ok is false when the file is
// missing. A damaged file is an error the caller decides how to treat.
func readOffsetFile(dir, name string) (off int64, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	off, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || off < 0 {
		return 0, false, fmt.Errorf("%s: bad content %q", name, b)
	}
	return off, true, nil
}

func writeMarker(dir, name string) error { return writeFileAtomic(dir, name, nil) }

// removeMarker deletes a marker durably, so a crash after it cannot pass for
// a clean shutdown.
func removeMarker(dir, name string) (existed bool, err error) {
	err = os.Remove(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("remove %s: %w", name, err)
	}
	return true, syncDir(dir)
}
