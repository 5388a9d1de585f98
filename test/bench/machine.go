package bench

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// machine describes where the run happened and the bounds the machine
// itself puts on it, measured in the same run as the servers.
type machine struct {
	CPU          string  `json:"cpu"`
	Cores        int     `json:"cores"`
	MemGiB       float64 `json:"mem_gib"`
	Disk         string  `json:"disk"`
	Kernel       string  `json:"kernel"`
	NoFile       uint64  `json:"nofile"`
	DiskMBps     float64 `json:"disk_fdatasync_mbps"`
	LoopbackMBps float64 `json:"loopback_tcp_mbps"`
}

func (m machine) describe() string {
	return fmt.Sprintf("%s, %d cores, %.0f GiB RAM, %s, Linux %s, open-file limit %d",
		m.CPU, m.Cores, m.MemGiB, m.Disk, m.Kernel, m.NoFile)
}

// probeMachine reads the machine's description from /proc and /sys and
// measures its limits with files under dir (the disk the servers use).
func probeMachine(dir string) (machine, error) {
	m := machine{CPU: "unknown CPU", Disk: "unknown disk"}
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			switch strings.TrimSpace(k) {
			case "model name":
				m.CPU = strings.TrimSpace(v)
			case "processor":
				m.Cores++
			}
		}
	}
	if kb := procField("/proc/meminfo", "MemTotal:"); kb > 0 {
		m.MemGiB = float64(kb) / (1 << 20)
	}
	if raw, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(raw))
	}
	m.Disk = describeDisk(dir)
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil {
		m.NoFile = lim.Cur
	}
	var err error
	if m.DiskMBps, err = diskFdatasyncMBps(dir, 2*time.Second); err != nil {
		return m, err
	}
	if m.LoopbackMBps, err = loopbackMBps(2 * time.Second); err != nil {
		return m, err
	}
	return m, nil
}

// describeDisk names the block device holding dir, its size and whether it
// is rotational, from /proc/self/mountinfo and /sys/block.
func describeDisk(dir string) string {
	var st unix.Stat_t
	if unix.Stat(dir, &st) != nil {
		return "unknown disk"
	}
	major, minor := unix.Major(st.Dev), unix.Minor(st.Dev)
	link, err := os.Readlink(fmt.Sprintf("/sys/dev/block/%d:%d", major, minor))
	if err != nil {
		return fmt.Sprintf("block device %d:%d", major, minor)
	}
	name := filepath.Base(link)
	sysDir := filepath.Join("/sys/class/block", name)
	if _, err := os.Stat(filepath.Join(sysDir, "partition")); err == nil {
		// A partition's queue settings are its whole disk's.
		sysDir = filepath.Join("/sys/class/block", filepath.Base(filepath.Dir(link)))
	}
	desc := "/dev/" + name
	if raw, err := os.ReadFile(filepath.Join("/sys/class/block", name, "size")); err == nil {
		if sectors, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64); err == nil {
			desc += fmt.Sprintf(" %.0f GB", float64(sectors)*512/1e9)
		}
	}
	if raw, err := os.ReadFile(filepath.Join(sysDir, "queue", "rotational")); err == nil {
		if strings.TrimSpace(string(raw)) == "0" {
			desc += " (non-rotational)"
		} else {
			desc += " (rotational)"
		}
	}
	if strings.HasPrefix(name, "vd") {
		desc += ", virtio"
	}
	return desc
}

// procField reads a "Key: value kB" line's number from a /proc file.
func procField(path, key string) int64 {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// diskFdatasyncMBps writes 1 MiB blocks sequentially, each followed by
// fdatasync, for d: the rate at which the disk makes data durable, which
// bounds acks=all on a single node.
func diskFdatasyncMBps(dir string, d time.Duration) (float64, error) {
	f, err := os.CreateTemp(dir, "disk-probe-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	block := make([]byte, 1<<20)
	for i := range block {
		block[i] = byte(i * 31)
	}
	var written int64
	t0 := time.Now()
	for time.Since(t0) < d {
		if _, err := f.Write(block); err != nil {
			return 0, err
		}
		if err := unix.Fdatasync(int(f.Fd())); err != nil {
			return 0, err
		}
		written += int64(len(block))
	}
	return float64(written) / time.Since(t0).Seconds() / 1e6, nil
}

// loopbackMBps sends 128 KiB writes over one loopback TCP connection for d:
// the most one client connection can carry on this machine.
func loopbackMBps(d time.Duration) (float64, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	got := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- 0
			return
		}
		n, _ := io.Copy(io.Discard, c)
		got <- n
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 128<<10)
	t0 := time.Now()
	for time.Since(t0) < d {
		if _, err := c.Write(buf); err != nil {
			return 0, err
		}
	}
	c.Close()
	n := <-got
	return float64(n) / time.Since(t0).Seconds() / 1e6, nil
}

// proc reads one process's counters from /proc.
type proc int

// cpuSeconds is user+system CPU time so far.
func (p proc) cpuSeconds() float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", int(p)))
	if err != nil {
		return 0
	}
	// Fields after the command name, which may hold spaces, in parentheses.
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // USER_HZ is 100 on Linux
}

// rss and peakRSS are in bytes.
func (p proc) rss() int64 { return procField(fmt.Sprintf("/proc/%d/status", int(p)), "VmRSS:") << 10 }
func (p proc) peakRSS() int64 {
	return procField(fmt.Sprintf("/proc/%d/status", int(p)), "VmHWM:") << 10
}

// resetPeak starts a new peak-RSS window (clear_refs 5 resets VmHWM; it
// needs to own the process or root, and is skipped when not allowed).
func (p proc) resetPeak() {
	os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", int(p)), []byte("5"), 0)
}

func (p proc) openFDs() int {
	entries, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", int(p)))
	return len(entries)
}
