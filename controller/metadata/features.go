package metadata

// MetadataVersionFeature is the feature whose level says which records and
// record versions the log may hold.
const MetadataVersionFeature = "metadata.version"

// featuresDelta changes the finalized feature levels copy-on-write.
type featuresDelta struct {
	base map[string]int16
	next map[string]int16 // nil until the first change
}

// set finalizes name at level; level 0 removes the feature, as in Kafka.
func (f *featuresDelta) set(name string, level int16) {
	if f.next == nil {
		f.next = cloneMap(f.base)
	}
	if level == 0 {
		delete(f.next, name)
		return
	}
	f.next[name] = level
}

func (f *featuresDelta) current() map[string]int16 {
	if f.next != nil {
		return f.next
	}
	return f.base
}
