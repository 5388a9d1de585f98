package record

import "testing"

func TestMarkerRoundTrip(t *testing.T) {
	for _, commit := range []bool{true, false} {
		b := AppendMarker(nil, 42, 7, commit, 3, 1000)
		h, err := Validate(b)
		if err != nil {
			t.Fatalf("commit=%v: %v", commit, err)
		}
		if !h.IsControl() || !h.IsTransactional() || h.ProducerID != 42 || h.ProducerEpoch != 7 ||
			h.NumRecords != 1 || h.BaseSequence != -1 || h.PartitionLeaderEpoch != -1 {
			t.Fatalf("commit=%v: header %+v", commit, h)
		}
		m, err := ParseMarker(b)
		if err != nil {
			t.Fatal(err)
		}
		want := ControlAbort
		if commit {
			want = ControlCommit
		}
		if m.Type != want || m.CoordinatorEpoch != 3 || !IsMarker(m.Type) {
			t.Fatalf("commit=%v: got %+v", commit, m)
		}
	}
}

func TestControlBatch(t *testing.T) {
	b := AppendControl(nil, Header{BaseOffset: 9, PartitionLeaderEpoch: 4, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1},
		ControlLeaderChange, []byte("value"))
	h, err := Validate(b)
	if err != nil || h.BaseOffset != 9 || !h.IsControl() || h.IsTransactional() {
		t.Fatalf("header %+v, %v", h, err)
	}
	c, err := ParseControl(b)
	if err != nil || c.Type != ControlLeaderChange || c.Version != 0 || string(c.Value) != "value" {
		t.Fatalf("control %+v, %v", c, err)
	}
	if m, err := ParseMarker(b); err != nil || IsMarker(m.Type) || m.CoordinatorEpoch != -1 {
		t.Fatalf("a leader change read as a marker: %+v %v", m, err)
	}
}

func TestParseControlRefusesData(t *testing.T) {
	b := AppendMarker(nil, 1, 0, true, 0, 0)
	if _, err := ParseControl(b[:HeaderLen+3]); err == nil {
		t.Fatal("a cut-off control batch parsed")
	}
	b[attributesPos+1] &^= AttrControl
	if _, err := ParseControl(b); err == nil {
		t.Fatal("a data batch parsed as a control batch")
	}
}
