package txn

import "unicode/utf16"

// PartitionFor is the __transaction_state partition of a transactional id:
// Kafka's Utils.abs(transactionalId.hashCode()) % n, with Java's
// String.hashCode over UTF-16 code units, so every Kafka tool agrees on an
// id's coordinator.
func PartitionFor(id string, n int) int32 {
	var h int32
	for _, c := range utf16.Encode([]rune(id)) {
		h = 31*h + int32(c)
	}
	// Utils.abs maps MIN_VALUE to 0 rather than overflowing.
	if h == -1<<31 {
		h = 0
	} else if h < 0 {
		h = -h
	}
	return h % int32(n)
}
