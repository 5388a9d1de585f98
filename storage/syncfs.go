package storage

import "os"

// FilesystemSync syncs a whole filesystem at once (see Sync).
type FilesystemSync struct {
	dir *os.File
}

// Close releases the directory descriptor.
func (s *FilesystemSync) Close() error { return s.dir.Close() }

// OpenFilesystemSync opens dir to sync its filesystem later.
func OpenFilesystemSync(dir string) (*FilesystemSync, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	return &FilesystemSync{dir: d}, nil
}
