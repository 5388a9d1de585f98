package storage

import "errors"

var (
	// ErrOffsetOutOfRange reports an offset below the log start offset or
	// beyond the log end offset.
	ErrOffsetOutOfRange = errors.New("offset out of range")
	// ErrLogCorrupt reports corruption that recovery must not repair
	// silently, such as a bad batch inside a closed segment.
	ErrLogCorrupt = errors.New("log corrupt")
	// ErrClosed reports use of a log after Close or Delete.
	ErrClosed = errors.New("log closed")
)
