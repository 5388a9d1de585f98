//go:build !linux

package storage

import (
	"os"
	"path/filepath"
)

// Sync falls back to fsyncing every file under the directory where
// syncfs(2) does not exist.
func (s *FilesystemSync) Sync() error {
	return filepath.Walk(s.dir.Name(), func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
}
