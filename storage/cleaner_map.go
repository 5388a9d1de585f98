package storage

import (
	"hash/maphash"
	"math/bits"
)

// mapEntrySize is what one key costs in the offset map: a 128-bit key hash
// and an offset, as in Kafka's SkimpyOffsetMap.
const mapEntrySize = 24

// mapLoad is the fill at which the map counts as full; linear probing slows
// sharply beyond it.
const mapLoad = 0.75

// minMapSlots is where a map starts, so a small log never pays for the
// whole dedupe buffer.
const minMapSlots = 1 << 14

type mapEntry struct {
	h1, h2 uint64
	off    int64 // offset+1; 0 marks an empty slot
}

// offsetMap maps a key to the latest offset seen for it. Keys are stored as
// two independently seeded 64-bit hashes: the seeds are random per map, so
// nobody can craft keys that collide and make the cleaner drop another
// key's latest value, and 128 bits make an accidental collision negligible.
// The table grows by doubling up to maxSlots, the dedupe buffer's worth.
type offsetMap struct {
	seed1, seed2 maphash.Seed
	slots        []mapEntry
	maxSlots     int
	n            int
}

func newOffsetMap(bufferBytes int64) *offsetMap {
	maxSlots := int(max(bufferBytes/mapEntrySize, 64))
	return &offsetMap{
		seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed(),
		slots:    make([]mapEntry, min(minMapSlots, maxSlots)),
		maxSlots: maxSlots,
	}
}

// capacity is how many keys the map holds at its largest.
func (m *offsetMap) capacity() int { return int(float64(m.maxSlots) * mapLoad) }

// room reports whether n more keys are sure to fit.
func (m *offsetMap) room(n int) bool { return m.n+n <= m.capacity() }

// reset empties the map for the next clean, keeping the table it grew to
// but drawing fresh seeds.
func (m *offsetMap) reset() {
	clear(m.slots)
	m.n = 0
	m.seed1, m.seed2 = maphash.MakeSeed(), maphash.MakeSeed()
}

func (m *offsetMap) hash(key []byte) (uint64, uint64) {
	return maphash.Bytes(m.seed1, key), maphash.Bytes(m.seed2, key)
}

// slot finds where h1/h2 lives in slots, or the empty slot it would take.
func slot(slots []mapEntry, h1, h2 uint64) int {
	hi, _ := bits.Mul64(h1, uint64(len(slots)))
	i := int(hi)
	for {
		e := &slots[i]
		if e.off == 0 || (e.h1 == h1 && e.h2 == h2) {
			return i
		}
		if i++; i == len(slots) {
			i = 0
		}
	}
}

// put records offset as the latest for key. The caller checks room first.
func (m *offsetMap) put(key []byte, offset int64) {
	if float64(m.n+1) > float64(len(m.slots))*mapLoad && len(m.slots) < m.maxSlots {
		m.grow()
	}
	h1, h2 := m.hash(key)
	i := slot(m.slots, h1, h2)
	if m.slots[i].off == 0 {
		m.n++
	}
	m.slots[i] = mapEntry{h1: h1, h2: h2, off: offset + 1}
}

// get returns the latest offset recorded for key.
func (m *offsetMap) get(key []byte) (int64, bool) {
	h1, h2 := m.hash(key)
	e := m.slots[slot(m.slots, h1, h2)]
	return e.off - 1, e.off != 0
}

// grow doubles the table; the old one is garbage right after, so the peak
// is at most one and a half dedupe buffers, once.
func (m *offsetMap) grow() {
	old := m.slots
	m.slots = make([]mapEntry, min(2*len(old), m.maxSlots))
	for _, e := range old {
		if e.off != 0 {
			m.slots[slot(m.slots, e.h1, e.h2)] = e
		}
	}
}
