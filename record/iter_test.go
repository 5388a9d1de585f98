package record

import (
	"errors"
	"testing"
)

func TestIterReadsRecords(t *testing.T) {
	var recs []byte
	in := []Record{
		{Key: []byte("a"), Value: []byte("1")},
		{TimestampDelta: 300, OffsetDelta: 1, Key: nil, Value: []byte("tomb? no")},
		{TimestampDelta: -5, OffsetDelta: 2, Key: []byte{}, Value: nil, Headers: []byte{2, 2, 'h', 0}},
	}
	for _, r := range in {
		recs = AppendRecord(recs, r)
	}
	it := NewIter(recs, 3)
	for i := 0; ; i++ {
		r, ok := it.Next()
		if !ok {
			if i != 3 || it.Err() != nil || len(it.Rest()) != 0 {
				t.Fatalf("stopped after %d: %v, %d bytes left", i, it.Err(), len(it.Rest()))
			}
			break
		}
		w := in[i]
		if r.TimestampDelta != w.TimestampDelta || r.OffsetDelta != w.OffsetDelta ||
			string(r.Key) != string(w.Key) || (r.Key == nil) != (w.Key == nil) ||
			string(r.Value) != string(w.Value) || (r.Value == nil) != (w.Value == nil) {
			t.Fatalf("record %d: %+v, want %+v", i, r, w)
		}
	}
}

func TestIterRefusesBadFraming(t *testing.T) {
	good := AppendRecord(nil, Record{Key: []byte("k"), Value: []byte("v"), Headers: []byte{2, 2, 'h', 2, 'v'}})
	cases := map[string][]byte{
		"cut":              good[:len(good)-1],
		"length past end":  append([]byte{0x7e}, good[1:]...),
		"negative length":  append([]byte{0x01}, good[1:]...),
		"bad header count": append(append([]byte{good[0]}, good[1:len(good)-5]...), 0x01, 0, 0, 0, 0),
		"unread bytes":     append(append([]byte{good[0] + 2}, good[1:]...), 0),
	}
	for name, b := range cases {
		it := NewIter(b, 1)
		if _, ok := it.Next(); ok || !errors.Is(it.Err(), ErrCorrupt) {
			t.Errorf("%s: ok=%v err=%v", name, ok, it.Err())
		}
	}
}
