package broker

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"spool/protocol"
	"spool/storage"
)

// callCleanerStatus calls the private handler with body and decodes its list;
// closed reports that it closed the connection instead.
func callCleanerStatus(t *testing.T, e *dataEnv, body string) (list []protocol.CleanerStatus, closed bool) {
	t.Helper()
	ch := make(chan protocol.Response, 1)
	req := &protocol.Request{Header: protocol.Header{Key: protocol.CleanerStatusKey}, Listener: "PLAINTEXT", Body: []byte(body)}
	e.b.handleCleanerStatus(req, func(r protocol.Response) { ch <- r })
	var r protocol.Response
	select {
	case r = <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no response")
	}
	if r.Close {
		return nil, true
	}
	if err := json.Unmarshal(r.Raw, &list); err != nil {
		t.Fatalf("response %q: %v", r.Raw, err)
	}
	return list, false
}

func TestCleanerStatus(t *testing.T) {
	e := newDataEnv(t, nil)
	// Every batch rolls a segment, so two of the three are cleanable.
	e.topic("c", 2, map[string]string{"cleanup.policy": "compact", "segment.bytes": "100"}, 1)
	e.topic("d", 1, nil)
	e.append("c", 0, testBatch(5, 10, 1, 0), testBatch(5, 10, 1, 0), testBatch(5, 10, 1, 0))

	for _, body := range []string{"", "{}", `{"topics":["c"]}`} {
		got, closed := callCleanerStatus(t, e, body)
		if closed || len(got) != 1 {
			t.Fatalf("body %q: closed %v, %+v; want c-0 alone (c-1 is led elsewhere, d is not compacted)", body, closed, got)
		}
		st := got[0]
		if st.Topic != "c" || st.Partition != 0 || st.DirtyRatio != 1 || st.FirstDirtyOffset != 0 || st.LastCleanMs != 0 || !st.Cleanable || st.LogBytes != e.part("c", 0).log.Size() {
			t.Errorf("body %q: %+v; want c-0 all dirty from 0, never cleaned, cleanable", body, st)
		}
	}
	if got, _ := callCleanerStatus(t, e, `{"topics":["d","nope"]}`); len(got) != 0 {
		t.Errorf("other topics: %+v, want an empty list", got)
	}
	if _, closed := callCleanerStatus(t, e, "not json"); !closed {
		t.Error("a body that is not JSON did not close the connection")
	}

	p := e.part("c", 0)
	before := time.Now().UnixMilli()
	if _, err := storage.NewCleaner(storage.CleanerOptions{DedupeBufferSize: 1 << 20}).Clean(context.Background(), p.log, p.HighWatermark()); err != nil {
		t.Fatal(err)
	}
	got, _ := callCleanerStatus(t, e, "")
	if len(got) != 1 || got[0].LastCleanMs < before || got[0].FirstDirtyOffset != 10 || got[0].DirtyRatio != 0 || got[0].Cleanable {
		t.Errorf("after a clean: %+v; want last clean now, first dirty offset 10, nothing cleanable", got)
	}
}
