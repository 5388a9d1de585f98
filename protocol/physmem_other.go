//go:build !linux

package protocol

// physicalMemory is unknown off Linux, where only the admin client (which
// imports this package for its dialer) is built: the server needs Linux.
func physicalMemory() (int64, bool) { return 0, false }
