package storage

import "errors"

var (
	// ErrCorruptBatch reports bytes that are not a well-formed v2 record
	// batch: bad lengths, bad CRC or a truncated batch.
	ErrCorruptBatch = errors.New("corrupt record batch")
	// ErrUnsupportedMagic reports a batch whose magic byte is not 2.
	ErrUnsupportedMagic = errors.New("unsupported record batch magic")
	// ErrOffsetOutOfRange reports an offset below the log start offset or
	// beyond the log end offset.
	ErrOffsetOutOfRange = errors.New("offset out of range")
	// ErrLogCorrupt reports corruption that recovery must not repair
	// silently, such as a bad batch inside a closed segment.
	ErrLogCorrupt = errors.New("log corrupt")
	// ErrClosed reports use of a log after Close or Delete.
	ErrClosed = errors.New("log closed")
)
