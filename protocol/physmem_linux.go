package protocol

import "golang.org/x/sys/unix"

// physicalMemory is the machine's RAM, from sysinfo(2).
func physicalMemory() (int64, bool) {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 0, false
	}
	return int64(si.Totalram) * int64(si.Unit), true
}
