package test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

type consoleShown struct {
	Encoding  string `json:"encoding"`
	Text      string `json:"text"`
	Size      int    `json:"size"`
	Truncated bool   `json:"truncated"`
}

type consoleRecords struct {
	HighWater int64 `json:"high_watermark"`
	From      int64 `json:"from_offset"`
	Records   []struct {
		Offset    int64         `json:"offset"`
		Timestamp int64         `json:"timestamp"`
		Key       *consoleShown `json:"key"`
		Value     *consoleShown `json:"value"`
		Headers   []struct {
			Key   string        `json:"key"`
			Value *consoleShown `json:"value"`
		}
	}
}

func checkConsoleRecords(t *testing.T, s *consoleScene) {
	path := "/v1/topics/" + sceneTopic + "/partitions/"
	var r consoleRecords
	if code := consoleJSON(t, s.base, path+"0/records?offset=earliest&limit=100", &r); code != 200 || len(r.Records) != scenePerPar {
		t.Fatalf("partition 0 from earliest: %d, %d records; want %d", code, len(r.Records), scenePerPar)
	}
	for i, rec := range r.Records {
		wantValue := fmt.Sprintf("{\n  \"n\": %d,\n  \"tags\": [\n    \"a\",\n    \"b\"\n  ]\n}", i)
		if rec.Offset != int64(i) || rec.Key == nil || rec.Key.Text != fmt.Sprintf("k-%d", i) || rec.Value == nil ||
			rec.Value.Encoding != "json" || rec.Value.Text != wantValue || rec.Timestamp != s.baseTime.Add(time.Duration(i)*time.Second).UnixMilli() {
			t.Fatalf("record %d: %+v key %+v value %+v; want key k-%d and the JSON pretty-printed", i, rec, rec.Key, rec.Value, i)
		}
		if len(rec.Headers) != 1 || rec.Headers[0].Key != "source" || rec.Headers[0].Value.Text != "console-test" {
			t.Fatalf("record %d headers %+v", i, rec.Headers)
		}
	}
	// Binary values are hex; partition 1 also holds the open
	// transaction's record, which read_uncommitted shows.
	if code := consoleJSON(t, s.base, path+"1/records?offset=3&limit=2", &r); code != 200 || len(r.Records) != 2 ||
		r.Records[0].Offset != 3 || r.Records[0].Value.Encoding != "hex" || r.Records[0].Value.Text != "00ff03" || r.Records[0].Key != nil {
		t.Fatalf("partition 1 from offset 3: %d %+v", code, r)
	}
	// latest: the last records before the high watermark.
	if code := consoleJSON(t, s.base, path+"2/records?limit=3", &r); code != 200 || len(r.Records) != 3 ||
		r.Records[2].Offset != r.HighWater-1 || r.Records[2].Value.Text != fmt.Sprintf("line %d", scenePerPar-1) || r.Records[2].Value.Encoding != "text" {
		t.Fatalf("partition 2 latest 3: %d %+v", code, r)
	}
	// By time: the first record at or after the timestamp.
	ts := s.baseTime.Add(6500 * time.Millisecond).UnixMilli()
	if code := consoleJSON(t, s.base, fmt.Sprintf("%s2/records?timestamp=%d&limit=1", path, ts), &r); code != 200 || r.From != 7 || len(r.Records) != 1 || r.Records[0].Offset != 7 {
		t.Fatalf("partition 2 after %d: %d %+v; want offset 7", ts, code, r)
	}
	// Past the end: nothing, promptly.
	if code := consoleJSON(t, s.base, path+"2/records?offset=1000", &r); code != 200 || len(r.Records) != 0 {
		t.Fatalf("past the end: %d %+v", code, r)
	}
	for q, want := range map[string]int{
		path + "0/records?limit=0":             http.StatusBadRequest,
		path + "0/records?limit=1000":          http.StatusBadRequest,
		path + "0/records?offset=-3":           http.StatusBadRequest,
		path + "0/records?timestamp=soon":      http.StatusBadRequest,
		path + "7/records":                     http.StatusNotFound,
		path + "x/records":                     http.StatusBadRequest,
		"/v1/topics/nope/partitions/0/records": http.StatusNotFound,
	} {
		if code := consoleJSON(t, s.base, q, nil); code != want {
			t.Errorf("GET %s: %d; want %d", q, code, want)
		}
	}
}

func checkConsoleGroups(t *testing.T, ctx context.Context, s *consoleScene) {
	lags, err := s.adm.Lag(ctx, sceneGroup)
	if err != nil {
		t.Fatal(err)
	}
	want := lags[sceneGroup]
	if want.Error() != nil || want.Lag.Total() < 3*sceneBehind {
		t.Fatalf("kadm lag %+v: the scene has no lag", want)
	}
	var list struct {
		Groups []struct {
			Group    string `json:"group"`
			State    string `json:"state"`
			Members  int    `json:"members"`
			TotalLag int64  `json:"total_lag"`
		}
	}
	if code := consoleJSON(t, s.base, "/v1/groups", &list); code != 200 || len(list.Groups) != 1 {
		t.Fatalf("/v1/groups: %d %+v", code, list)
	}
	if g := list.Groups[0]; g.Group != sceneGroup || g.State != want.State || g.State != "Stable" || g.Members != 1 || g.TotalLag != want.Lag.Total() {
		t.Fatalf("group %+v; kadm says state %s, lag %d", g, want.State, want.Lag.Total())
	}
	var g struct {
		State        string `json:"state"`
		ProtocolType string `json:"protocol_type"`
		Protocol     string `json:"protocol"`
		TotalLag     int64  `json:"total_lag"`
		MemberList   []struct {
			MemberID string `json:"member_id"`
			Assigned []struct {
				Topic      string  `json:"topic"`
				Partitions []int32 `json:"partitions"`
			}
		} `json:"member_list"`
		LagHistory [][2]int64 `json:"lag_history"`
		Offsets    []struct {
			Topic     string `json:"topic"`
			Partition int32  `json:"partition"`
			Committed int64  `json:"committed"`
			End       int64  `json:"end_offset"`
			Lag       int64  `json:"lag"`
		}
	}
	if code := consoleJSON(t, s.base, "/v1/groups/"+sceneGroup, &g); code != 200 {
		t.Fatalf("/v1/groups/%s: %d", sceneGroup, code)
	}
	if g.State != "Stable" || g.ProtocolType != "consumer" || g.Protocol != want.Protocol || g.TotalLag != want.Lag.Total() || len(g.MemberList) != 1 {
		t.Fatalf("group %+v; kadm says %+v", g, want)
	}
	if m := g.MemberList[0]; m.MemberID != want.Members[0].MemberID || len(m.Assigned) != 1 || m.Assigned[0].Topic != sceneTopic || !slices.Equal(m.Assigned[0].Partitions, []int32{0, 1, 2}) {
		t.Fatalf("member %+v; want %s assigned %s [0 1 2]", m, want.Members[0].MemberID, sceneTopic)
	}
	if h := g.LagHistory; len(h) != 1 || h[0][1] != want.Lag.Total() {
		t.Fatalf("lag history %v; want one reading of %d", h, want.Lag.Total())
	}
	if len(g.Offsets) != 3 {
		t.Fatalf("offsets %+v; want 3 partitions", g.Offsets)
	}
	for _, o := range g.Offsets {
		l, _ := want.Lag.Lookup(o.Topic, o.Partition)
		if o.Committed != scenePerPar-sceneBehind || o.Committed != l.Commit.At || o.End != l.End.Offset || o.Lag != l.Lag || o.Lag < sceneBehind {
			t.Errorf("offset %+v; kadm says committed %d end %d lag %d", o, l.Commit.At, l.End.Offset, l.Lag)
		}
	}
	if code := consoleJSON(t, s.base, "/v1/groups/no-such-group", nil); code != http.StatusNotFound {
		t.Errorf("unknown group: %d; want 404", code)
	}
}

func checkConsoleTransactions(t *testing.T, ctx context.Context, s *consoleScene) {
	described, err := s.adm.DescribeTransactions(ctx, sceneTxnID)
	if err != nil {
		t.Fatal(err)
	}
	want := described[sceneTxnID]
	var txns struct {
		Transactions []struct {
			ID         string `json:"transactional_id"`
			State      string `json:"state"`
			ProducerID int64  `json:"producer_id"`
			Start      int64  `json:"start_timestamp"`
			Overdue    bool   `json:"overdue"`
			Partitions []struct {
				Topic      string  `json:"topic"`
				Partitions []int32 `json:"partitions"`
			}
		}
	}
	if code := consoleJSON(t, s.base, "/v1/transactions", &txns); code != 200 || len(txns.Transactions) != 1 {
		t.Fatalf("/v1/transactions: %d %+v", code, txns)
	}
	x := txns.Transactions[0]
	if x.ID != sceneTxnID || x.State != "Ongoing" || x.State != want.State || x.ProducerID != want.ProducerID || x.Start != want.StartTimestamp || x.Overdue ||
		len(x.Partitions) != 1 || x.Partitions[0].Topic != sceneTopic || !slices.Equal(x.Partitions[0].Partitions, []int32{1}) {
		t.Fatalf("transaction %+v; kadm says %+v", x, want)
	}
	var openTxns struct {
		Scanned int `json:"partitions_scanned"`
		Open    []struct {
			Topic           string `json:"topic"`
			Partition       int32  `json:"partition"`
			ProducerID      int64  `json:"producer_id"`
			StartOffset     int64  `json:"start_offset"`
			TransactionalID string `json:"transactional_id"`
			State           string `json:"coordinator_state"`
			Hanging         bool   `json:"hanging"`
		}
	}
	if code := consoleJSON(t, s.base, "/v1/transactions/open", &openTxns); code != 200 || openTxns.Scanned < 4 || len(openTxns.Open) != 1 {
		t.Fatalf("/v1/transactions/open: %d %+v; want the one open transaction", code, openTxns)
	}
	if o := openTxns.Open[0]; o.Topic != sceneTopic || o.Partition != 1 || o.ProducerID != want.ProducerID || o.StartOffset != scenePerPar ||
		o.TransactionalID != sceneTxnID || o.State != "Ongoing" || o.Hanging {
		t.Fatalf("open transaction %+v; want %s-1 from offset %d by %s (producer %d), ongoing, not hanging", o, sceneTopic, scenePerPar, sceneTxnID, want.ProducerID)
	}
	var prod struct {
		Leader    int32 `json:"leader"`
		Producers []struct {
			ProducerID   int64 `json:"producer_id"`
			TxnStart     int64 `json:"current_txn_start_offset"`
			LastSequence int32 `json:"last_sequence"`
		}
	}
	if code := consoleJSON(t, s.base, "/v1/topics/"+sceneTopic+"/partitions/1/producers", &prod); code != 200 {
		t.Fatalf("producers: %d", code)
	}
	var ids []string
	open := false
	for _, p := range prod.Producers {
		ids = append(ids, fmt.Sprint(p.ProducerID))
		if p.ProducerID == want.ProducerID && p.TxnStart == scenePerPar {
			open = true
		}
	}
	if prod.Leader != 1 || len(prod.Producers) != 2 || !open {
		t.Fatalf("producers of %s-1: %+v; want the plain producer and %d with a transaction open at offset %d (ids %s)", sceneTopic, prod, want.ProducerID, scenePerPar, strings.Join(ids, ","))
	}
}
