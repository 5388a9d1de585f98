package metadata

// HealthReasons names what keeps a cluster from being healthy, in a fixed
// order; an empty (never nil) answer means healthy. `spool cluster health` and the web
// console both judge by it, so the two never disagree.
func HealthReasons(activeController bool, fenced, offline, leaderless, underReplicated int) []string {
	reasons := []string{}
	if !activeController {
		reasons = append(reasons, "no_active_controller")
	}
	for _, r := range []struct {
		n    int
		name string
	}{{fenced, "fenced_brokers"}, {offline, "offline_brokers"}, {leaderless, "leaderless_partitions"}, {underReplicated, "under_replicated_partitions"}} {
		if r.n > 0 {
			reasons = append(reasons, r.name)
		}
	}
	return reasons
}
