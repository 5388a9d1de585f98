package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"spool/protocol"
)

// cleanerDetail is one partition's cleaner state in `topic describe`.
type cleanerDetail struct {
	Partition        int32   `json:"partition"`
	DirtyRatio       float64 `json:"dirty_ratio"`
	FirstDirtyOffset int64   `json:"first_dirty_offset"`
	LastClean        string  `json:"last_clean,omitempty"` // RFC3339; absent if never
	LogBytes         int64   `json:"log_bytes"`
	Cleanable        bool    `json:"cleanable"`
}

func toCleanerDetail(st protocol.CleanerStatus) cleanerDetail {
	d := cleanerDetail{Partition: st.Partition, DirtyRatio: st.DirtyRatio, FirstDirtyOffset: st.FirstDirtyOffset, LogBytes: st.LogBytes, Cleanable: st.Cleanable}
	if st.LastCleanMs > 0 {
		d.LastClean = time.UnixMilli(st.LastCleanMs).UTC().Format(time.RFC3339)
	}
	return d
}

// addCleaner fills the Cleaner rows of the compacted topics in out.
func addCleaner(s *session, out []topicDetail, compacted []string, leaders map[int32]bool) {
	if len(compacted) == 0 {
		return
	}
	by, ok := cleanerStatuses(s, compacted, leaders)
	if !ok {
		return
	}
	for i, td := range out {
		for _, pd := range td.Partitions {
			if st, ok := by[td.Topic][pd.Partition]; ok {
				out[i].Cleaner = append(out[i].Cleaner, toCleanerDetail(st))
			}
		}
	}
}

// cleanerStatuses asks each broker that leads a partition of topics for
// its cleaner state, through Spool's private CleanerStatusKey; each broker
// answers for the partitions it leads. Only brokers advertising the key are
// asked: another Kafka implementation may hang or fail on a key it does not
// know. ok is false when no broker answered, so the CLI stays a plain Kafka
// tool against other clusters; a broker that fails leaves its partitions
// out rather than failing the command.
func cleanerStatuses(s *session, topics []string, leaders map[int32]bool) (by map[string]map[int32]protocol.CleanerStatus, ok bool) {
	vers, err := s.adm.ApiVersions(s.ctx)
	if err != nil {
		return nil, false
	}
	meta, err := s.adm.BrokerMetadata(s.ctx)
	if err != nil {
		return nil, false
	}
	body, err := json.Marshal(protocol.CleanerStatusRequest{Topics: topics})
	if err != nil {
		return nil, false
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		answered bool
	)
	by = map[string]map[int32]protocol.CleanerStatus{}
	for _, b := range meta.Brokers {
		v, has := vers[b.NodeID]
		if !leaders[b.NodeID] || !has || v.Err != nil {
			continue
		}
		if _, _, has := v.KeyVersions(protocol.CleanerStatusKey); !has {
			continue
		}
		addr := net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))
		wg.Go(func() {
			list, err := requestCleanerStatus(s.ctx, addr, body, s.dial)
			if err != nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			answered = true
			for _, st := range list {
				if by[st.Topic] == nil {
					by[st.Topic] = map[int32]protocol.CleanerStatus{}
				}
				by[st.Topic][st.Partition] = st
			}
		})
	}
	wg.Wait()
	return by, answered
}

// requestCleanerStatus sends one CleanerStatusKey request to addr. kgo
// cannot send a key it does not know, so this dials on its own.
func requestCleanerStatus(ctx context.Context, addr string, body []byte, dial protocol.DialFunc) ([]protocol.CleanerStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c := protocol.NewClientDial(addr, "spool-cli", dial)
	defer c.Close()
	raw, err := c.RequestRaw(ctx, protocol.CleanerStatusKey, 0, body)
	if err != nil {
		return nil, err
	}
	var list []protocol.CleanerStatus
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("cleaner status from %s: %w", addr, err)
	}
	return list, nil
}

// printCleaner prints the CLEANER section of `topic describe`.
func printCleaner(p *printer, rows []cleanerDetail) {
	out := make([][]string, 0, len(rows))
	for _, d := range rows {
		last := d.LastClean
		if last == "" {
			last = "never"
		}
		cleanable := "no"
		if d.Cleanable {
			cleanable = "yes"
		}
		out = append(out, []string{fmt.Sprint(d.Partition), fmt.Sprintf("%.1f%%", 100*d.DirtyRatio), count(d.FirstDirtyOffset), last, cleanable})
	}
	fmt.Fprintln(p.w, "\nCLEANER")
	p.table([]string{"PARTITION", "DIRTY", "FIRST-DIRTY-OFFSET", "LAST-CLEAN", "CLEANABLE"}, out)
}
