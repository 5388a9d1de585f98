package broker

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"go.uber.org/zap"

	"spool/storage"
)

// hwCheckpointFile is Kafka's replication-offset-checkpoint: the high
// watermark of every partition in a log dir, so a restarted broker never
// takes its log end for committed (records only it had would otherwise
// be served as committed, and vanish when another replica leads).
const hwCheckpointFile = "replication-offset-checkpoint"

// readHWCheckpoint parses dir's checkpoint (version 0: a version line, a
// count line, then "topic partition offset" lines). A missing file is empty.
func readHWCheckpoint(dir string) (map[tp]int64, error) {
	out := map[tp]int64{}
	raw, err := os.ReadFile(filepath.Join(dir, hwCheckpointFile))
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) < 2 || strings.TrimSpace(lines[0]) != "0" {
		return nil, fmt.Errorf("%s/%s: unknown version or truncated", dir, hwCheckpointFile)
	}
	n, err := strconv.Atoi(strings.TrimSpace(lines[1]))
	if err != nil || n != len(lines)-2 {
		return nil, fmt.Errorf("%s/%s: count %q does not match %d entries", dir, hwCheckpointFile, lines[1], len(lines)-2)
	}
	for _, line := range lines[2:] {
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("%s/%s: bad line %q", dir, hwCheckpointFile, line)
		}
		part, err1 := strconv.ParseInt(f[1], 10, 32)
		off, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil || off < 0 {
			return nil, fmt.Errorf("%s/%s: bad line %q", dir, hwCheckpointFile, line)
		}
		out[tp{f[0], int32(part)}] = off
	}
	return out, nil
}

// writeHWCheckpoint replaces dir's checkpoint atomically.
func writeHWCheckpoint(dir string, hws map[tp]int64) error {
	keys := make([]tp, 0, len(hws))
	for k := range hws {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].topic != keys[j].topic {
			return keys[i].topic < keys[j].topic
		}
		return keys[i].partition < keys[j].partition
	})
	var b strings.Builder
	fmt.Fprintf(&b, "0\n%d\n", len(keys))
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %d %d\n", k.topic, k.partition, hws[k])
	}
	return storage.WriteFileAtomic(filepath.Join(dir, hwCheckpointFile), []byte(b.String()))
}

// loadHWCheckpoints reads every log dir's checkpoint at start. An
// unreadable one is logged and treated as empty: every high watermark
// then starts at 0 and is learnt again from the leader or the ISR.
func (rm *replicaManager) loadHWCheckpoints() {
	rm.hwKnown = map[string]map[tp]int64{}
	for _, dir := range rm.b.cfg.LogDirs {
		dir = filepath.Clean(dir)
		hws, err := readHWCheckpoint(dir)
		if err != nil {
			rm.log.Warn("ignoring unreadable high watermark checkpoint", zap.String("dir", dir), zap.Error(err))
			hws = map[tp]int64{}
		}
		rm.hwKnown[dir] = hws
	}
}

// checkpointedHW returns the high watermark the checkpoints hold for key
// and the log dir whose checkpoint holds it.
func (rm *replicaManager) checkpointedHW(key tp) (string, int64, bool) {
	rm.hwMu.Lock()
	defer rm.hwMu.Unlock()
	for dir, hws := range rm.hwKnown {
		if hw, ok := hws[key]; ok {
			return dir, hw, true
		}
	}
	return "", 0, false
}

// forgetHW drops key from the checkpoints and rewrites them, before a
// deleted or reassigned replica's directory is removed: a restart must not
// take its absence for a lost directory.
func (rm *replicaManager) forgetHW(key tp) {
	rm.hwMu.Lock()
	found := false
	for _, hws := range rm.hwKnown {
		if _, ok := hws[key]; ok {
			delete(hws, key)
			found = true
		}
	}
	rm.hwMu.Unlock()
	if found {
		rm.checkpointHighWatermarks()
	}
}

// checkpointHighWatermarks writes every online log dir's checkpoint from
// the hosted partitions, keeping the entries of partitions not open (yet,
// or refused because their directory is missing).
func (rm *replicaManager) checkpointHighWatermarks() {
	rm.hwMu.Lock()
	defer rm.hwMu.Unlock()
	byDir := map[string]map[tp]int64{}
	for dir, known := range rm.hwKnown {
		if rm.b.dirs.isOffline(dir) {
			continue
		}
		m := make(map[tp]int64, len(known))
		for k, v := range known {
			m[k] = v
		}
		byDir[dir] = m
	}
	for _, p := range rm.all() {
		if m, ok := byDir[logDirOf(p.log.Dir())]; ok && p.log.Failure() == nil {
			m[tp{p.topic, p.id}] = p.HighWatermark()
		}
	}
	for dir, m := range byDir {
		if err := writeHWCheckpoint(dir, m); err != nil {
			if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
				// An older checkpoint only holds lower high watermarks.
				rm.log.Warn("high watermark checkpoint not written: disk full", zap.String("dir", dir), zap.Error(err))
				continue
			}
			rm.b.dirs.markOffline(dir, fmt.Errorf("write %s: %w", hwCheckpointFile, err))
			continue
		}
		rm.hwKnown[dir] = m
	}
}
