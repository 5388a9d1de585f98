package storage

import "testing"

func TestControlBatchRoundTrip(t *testing.T) {
	for _, commit := range []bool{true, false} {
		b := EncodeControlBatch(nil, 42, 7, commit, 3, 1000)
		h, err := ValidateBatch(b)
		if err != nil {
			t.Fatalf("commit=%v: %v", commit, err)
		}
		if !h.IsControl() || !h.IsTransactional() || h.ProducerID != 42 || h.ProducerEpoch != 7 || h.NumRecords != 1 {
			t.Fatalf("commit=%v: header %+v", commit, h)
		}
		rec, err := ParseControlBatch(b)
		if err != nil {
			t.Fatal(err)
		}
		want := ControlAbort
		if commit {
			want = ControlCommit
		}
		if rec.Type != want || rec.CoordinatorEpoch != 3 {
			t.Fatalf("commit=%v: got %+v", commit, rec)
		}
	}
}

func TestParseControlBatchRefusesData(t *testing.T) {
	b := EncodeControlBatch(nil, 1, 0, true, 0, 0)
	if _, err := ParseControlBatch(b[:BatchHeaderLen+3]); err == nil {
		t.Fatal("a cut-off control batch parsed")
	}
	b[attributesPos+1] &^= attrControl
	if _, err := ParseControlBatch(b); err == nil {
		t.Fatal("a data batch parsed as a control batch")
	}
}
