package group

// State is a classic group's rebalance state.
type State int8

const (
	// Empty has no members; it may still hold committed offsets.
	Empty State = iota
	// PreparingRebalance waits for members to (re)join.
	PreparingRebalance
	// CompletingRebalance waits for the leader's assignment in SyncGroup.
	CompletingRebalance
	// Stable has a generation whose members all have their assignment.
	Stable
	// Dead is removed: its metadata and offsets are gone.
	Dead
)

// String is the name Kafka uses in DescribeGroups and ListGroups.
func (s State) String() string {
	switch s {
	case Empty:
		return "Empty"
	case PreparingRebalance:
		return "PreparingRebalance"
	case CompletingRebalance:
		return "CompletingRebalance"
	case Stable:
		return "Stable"
	case Dead:
		return "Dead"
	}
	return "Unknown"
}

// ParseState maps a state name (as in ListGroups v4 filters, any case) to
// a State.
func ParseState(name string) (State, bool) {
	for s := Empty; s <= Dead; s++ {
		if equalFold(s.String(), name) {
			return s, true
		}
	}
	return 0, false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
