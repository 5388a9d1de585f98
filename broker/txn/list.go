package txn

import "regexp"

// ListFilter is ListTransactions' filters.
type ListFilter struct {
	states    map[State]bool // nil: any state
	producers map[int64]bool // nil: any producer
	// minDurationMs keeps transactions open longer than this; -1 keeps all
	// (ListTransactions v1's DurationFilter).
	minDurationMs int64
	// idPattern keeps transactional ids it matches whole (v2, KIP-1152);
	// nil keeps all.
	idPattern *regexp.Regexp
}

// SetIDPattern filters by a regular expression the whole transactional id
// must match (ListTransactions v2). Kafka compiles it as a Java regex; Go's
// RE2 accepts the same patterns except back-references and lookaround, for
// which it returns an error (INVALID_REGULAR_EXPRESSION on the wire). An
// empty pattern keeps every id, as in Kafka.
func (f *ListFilter) SetIDPattern(pattern string) error {
	if pattern == "" {
		return nil
	}
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return err
	}
	f.idPattern = re
	return nil
}

// NewListFilter builds the filters of a ListTransactions request and
// returns the state names it does not know, which Kafka reports back and
// which match nothing.
func NewListFilter(stateNames []string, producerIDs []int64, durationMs int64) (ListFilter, []string) {
	f := ListFilter{minDurationMs: durationMs}
	var unknown []string
	if len(stateNames) > 0 {
		f.states = map[State]bool{}
		for _, n := range stateNames {
			if s, ok := StateByName(n); ok {
				f.states[s] = true
			} else {
				unknown = append(unknown, n)
			}
		}
	}
	if len(producerIDs) > 0 {
		f.producers = map[int64]bool{}
		for _, id := range producerIDs {
			f.producers[id] = true
		}
	}
	return f, unknown
}

// Match says whether t is listed. An id being expired (Dead) never is.
func (f *ListFilter) Match(t *Txn, nowMs int64) bool {
	switch {
	case t.State == Dead:
		return false
	case f.producers != nil && !f.producers[t.ProducerID]:
		return false
	case f.states != nil && !f.states[t.State]:
		return false
	case f.minDurationMs >= 0 && nowMs-t.StartMs <= f.minDurationMs:
		return false
	case f.idPattern != nil && !f.idPattern.MatchString(t.ID):
		return false
	}
	return true
}
