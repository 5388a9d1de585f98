package group

import "unicode/utf16"

// Partition is the __consumer_offsets partition of groupID: Kafka's
// Utils.abs(groupId.hashCode()) % n, with Java's String.hashCode over UTF-16
// code units, so Spool and every Kafka tool agree on a group's coordinator.
func Partition(groupID string, n int) int32 {
	h := javaHashCode(groupID)
	// Utils.abs maps MIN_VALUE to 0 rather than overflowing.
	if h == -1<<31 {
		h = 0
	} else if h < 0 {
		h = -h
	}
	return h % int32(n)
}

func javaHashCode(s string) int32 {
	var h int32
	for _, c := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(c)
	}
	return h
}
