package controller

import (
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"spool/config"
	"spool/controller/metadata"
	"spool/storage"
)

// A deterministic simulation of the metadata quorum: three real
// controllers (raft node, raftStore on real files, apply, propose) in one
// goroutine, with the network, the clock, elections, crashes and restarts
// decided by one seed. Crashes are kill -9 (no clean-shutdown marker), half
// of them with a torn write at the log's end. The simulator owns time: only leaders tick (their
// heartbeats and quorum checks), and followers' election timeouts are
// replaced by seeded campaigns, so nothing depends on raft's own random
// timeouts and a seed replays exactly. Messages are delayed, reordered,
// duplicated and dropped; links are cut and healed; nodes crash (their
// files stay, as after kill -9 once entries are fsynced, which raftStore
// does before anything is sent) and restart from disk. After every step:
// at most one leader per term, and no two nodes ever commit different
// entries at one index (each node's committed entries are checked once per
// life, so a restart re-checks what its disk holds). At the end the network
// heals, every node restarts and the quorum must converge with every
// acknowledged proposal in every node's committed image.
//
// SPOOL_SIM_SEEDS sets how many seeds run (default 1000; make
// test-sim-long runs 100000); SPOOL_SIM_SEED=N replays one.
func TestSimulatedMetadataQuorum(t *testing.T) {
	if v := os.Getenv("SPOOL_SIM_SEED"); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SPOOL_SIM_SEED=%q: %v", v, err)
		}
		runSim(t, seed, true)
		return
	}
	seeds := 1000
	if testing.Short() {
		seeds = 100
	}
	if v := os.Getenv("SPOOL_SIM_SEEDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("SPOOL_SIM_SEEDS=%q: want a positive count", v)
		}
		seeds = n
	}
	base := uint64(time.Now().UnixNano())
	var steps, acked, crashes int
	for i := 0; i < seeds && !t.Failed(); i++ {
		st := runSim(t, base+uint64(i), false)
		steps, acked, crashes = steps+st.steps, acked+st.acked, crashes+st.crashes
	}
	t.Logf("%d seeds from %d: %d steps, %d proposals acknowledged, %d crashes", seeds, base, steps, acked, crashes)
}

// A seed replays exactly: the same actions, deliveries and outcomes.
func TestSimulationReplaysASeedExactly(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	a, b := newSimRun(t, seed), newSimRun(t, seed)
	if len(a) == 0 || strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Fatalf("seed %d ran differently twice (%d and %d steps traced)", seed, len(a), len(b))
	}
}

func newSimRun(t *testing.T, seed uint64) []string {
	var trace []string
	runSimTraced(t, seed, false, &trace)
	return trace
}

type simStats struct{ steps, acked, crashes int }

type simMsg struct {
	m  *raftpb.Message
	at int // the first step it may be delivered at
}

type simNode struct {
	id   int32
	dir  string
	c    *Controller // nil while crashed
	seen uint64      // committed entries checked in this life
}

type sim struct {
	t         testing.TB
	seed      uint64
	rng       *rand.Rand
	nodes     []*simNode
	voters    []config.Voter
	net       []simMsg
	cut       map[[2]int32]bool
	now       time.Time
	step      int
	leaders   map[uint64]int32  // term -> the node that led it
	committed map[uint64]string // raft index -> term and data checksum
	acked     []string
	proposed  int
	trace     []string
	stats     simStats
	verbose   bool
}

// runSim runs one seed; a failure names the seed and the last steps.
func runSim(t *testing.T, seed uint64, verbose bool) simStats {
	return runSimTraced(t, seed, verbose, nil)
}

func runSimTraced(t *testing.T, seed uint64, verbose bool, trace *[]string) simStats {
	s := &sim{t: t, seed: seed, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), cut: map[[2]int32]bool{},
		now: time.Unix(1_700_000_000, 0), leaders: map[uint64]int32{}, committed: map[uint64]string{}, verbose: verbose}
	dir := simDir(t)
	for i := int32(0); i < 3; i++ {
		s.voters = append(s.voters, config.Voter{ID: i, Host: "127.0.0.1", Port: 1 + int(i)})
	}
	for i := int32(0); i < 3; i++ {
		n := &simNode{id: i, dir: filepath.Join(dir, fmt.Sprint(i))}
		s.nodes = append(s.nodes, n)
		s.start(n)
	}
	defer func() {
		for _, n := range s.nodes {
			if n.c != nil {
				n.c.Close()
			}
		}
		// At once, not at the test's end: a long run makes 100000 of them.
		os.RemoveAll(dir)
	}()
	for s.step = 0; s.step < 400; s.step++ {
		s.act()
		s.drain()
		s.check()
	}
	s.converge()
	if trace != nil {
		*trace = append(s.trace, fmt.Sprintf("acked %v", s.acked))
	}
	s.stats.steps = s.step
	s.stats.acked = len(s.acked)
	return s.stats
}

func (s *sim) fail(format string, args ...any) {
	s.t.Helper()
	tail := s.trace
	if len(tail) > 40 {
		tail = tail[len(tail)-40:]
	}
	s.t.Fatalf("seed %d, step %d: %s\nreplay: SPOOL_SIM_SEED=%d go test -run TestSimulatedMetadataQuorum ./controller/\nlast steps:\n  %s",
		s.seed, s.step, fmt.Sprintf(format, args...), s.seed, strings.Join(tail, "\n  "))
}

func (s *sim) note(format string, args ...any) {
	line := fmt.Sprintf("%d: ", s.step) + fmt.Sprintf(format, args...)
	s.trace = append(s.trace, line)
	if s.verbose {
		s.t.Log(line)
	}
}

func (s *sim) start(n *simNode) {
	c, err := New(Config{
		NodeID: n.id, ClusterID: "q1Sh-9_ISia_zwGINzRvyQ", MetadataLogDir: n.dir, Voters: s.voters,
		ElectionTimeout: time.Second, SessionTimeout: 9 * time.Second, Static: config.MustNew(nil),
		Storage: storage.DefaultConfig(), Logger: zap.NewNop(), Now: func() time.Time { return s.now },
		SnapshotBytes: math.MaxInt64, Fsync: func(*os.File) error { return nil },
	})
	if err != nil {
		s.fail("start node %d: %v", n.id, err)
	}
	c.send = func(msgs []*raftpb.Message) {
		for _, m := range msgs {
			s.enqueue(m)
		}
	}
	n.c, n.seen = c, 0
}

func (s *sim) enqueue(m *raftpb.Message) {
	from, to := nodeID(m.GetFrom()), nodeID(m.GetTo())
	if s.cut[[2]int32{from, to}] {
		return
	}
	s.net = append(s.net, simMsg{m: proto.Clone(m).(*raftpb.Message), at: s.step + s.rng.IntN(4)})
	if s.rng.IntN(50) == 0 {
		s.net = append(s.net, simMsg{m: proto.Clone(m).(*raftpb.Message), at: s.step + s.rng.IntN(8)})
	}
}

// act takes one seeded action.
func (s *sim) act() {
	switch r := s.rng.IntN(100); {
	case r < 50:
		s.deliver()
	case r < 65:
		s.tickLeaders()
	case r < 68:
		if n := s.pickLive(); n != nil && n.c.rn.BasicStatus().RaftState != raft.StateLeader {
			s.note("node %d campaigns", n.id)
			n.c.rn.Campaign()
		}
	case r < 83:
		s.propose()
	case r < 85:
		if len(s.net) > 0 {
			i := s.rng.IntN(len(s.net))
			s.note("drop %s %d->%d", s.net[i].m.GetType(), nodeID(s.net[i].m.GetFrom()), nodeID(s.net[i].m.GetTo()))
			s.net = append(s.net[:i], s.net[i+1:]...)
		}
	case r < 86:
		if n := s.pickLive(); n != nil {
			s.crash(n)
		}
	case r < 92:
		for _, n := range s.nodes {
			if n.c == nil {
				s.note("node %d restarts", n.id)
				s.start(n)
				break
			}
		}
	case r < 95:
		a, b := int32(s.rng.IntN(3)), int32(s.rng.IntN(3))
		if a != b {
			s.note("cut %d<->%d", a, b)
			s.cut[[2]int32{a, b}], s.cut[[2]int32{b, a}] = true, true
		}
	default:
		if len(s.cut) > 0 {
			s.note("heal")
			clear(s.cut)
		}
	}
}

// crash stops a node as kill -9 would: no clean-shutdown marker, so its
// restart recovers the log; sometimes with a torn write at the log's end
// (a Ready being written when the power went, never synced, so never
// acknowledged or voted on), which recovery must cut off.
func (s *sim) crash(n *simNode) {
	n.c.Close()
	n.c = nil
	s.stats.crashes++
	logDir := filepath.Join(n.dir, MetadataTopic+"-0")
	if err := os.Remove(filepath.Join(logDir, "clean-shutdown")); err != nil {
		s.fail("node %d: remove clean-shutdown marker: %v", n.id, err)
	}
	torn := 0
	if s.rng.IntN(2) == 0 {
		segs, _ := filepath.Glob(filepath.Join(logDir, "*.log"))
		if len(segs) > 0 {
			torn = 1 + s.rng.IntN(120)
			junk := make([]byte, torn)
			for i := range junk {
				junk[i] = byte(s.rng.IntN(256))
			}
			f, err := os.OpenFile(segs[len(segs)-1], os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				s.fail("node %d: %v", n.id, err)
			}
			f.Write(junk)
			f.Close()
		}
	}
	s.note("node %d crashes (torn tail of %d bytes)", n.id, torn)
}

func (s *sim) pickLive() *simNode {
	var live []*simNode
	for _, n := range s.nodes {
		if n.c != nil {
			live = append(live, n)
		}
	}
	if len(live) == 0 {
		return nil
	}
	return live[s.rng.IntN(len(live))]
}

// deliver hands one due message (chosen by the seed, so out of order) to
// its node, unless the node is down or the link was cut meanwhile.
func (s *sim) deliver() {
	var due []int
	for i, m := range s.net {
		if m.at <= s.step {
			due = append(due, i)
		}
	}
	if len(due) == 0 {
		return
	}
	i := due[s.rng.IntN(len(due))]
	m := s.net[i].m
	s.net = append(s.net[:i], s.net[i+1:]...)
	from, to := nodeID(m.GetFrom()), nodeID(m.GetTo())
	n := s.nodes[to]
	if n.c == nil || s.cut[[2]int32{from, to}] {
		return
	}
	s.note("deliver %s %d->%d term %d", m.GetType(), from, to, m.GetTerm())
	n.c.rn.Step(m)
}

// tickLeaders advances the clock and ticks the leaders only (see the test).
func (s *sim) tickLeaders() {
	s.now = s.now.Add(100 * time.Millisecond)
	for _, n := range s.nodes {
		if n.c != nil && n.c.rn.BasicStatus().RaftState == raft.StateLeader {
			n.c.rn.Tick()
			n.c.onTick()
		}
	}
}

// propose writes a new topic through a ready leader.
func (s *sim) propose() {
	n := s.pickLive()
	if n == nil || !n.c.ready {
		return
	}
	s.proposed++
	name := fmt.Sprintf("t%d", s.proposed)
	var id [16]byte
	copy(id[:], fmt.Sprintf("%016d", s.proposed))
	s.note("node %d proposes %s", n.id, name)
	n.c.propose([]metadata.Record{&metadata.TopicRecord{Name: name, TopicID: id}}, func(err error) {
		if err == nil {
			s.acked = append(s.acked, name)
		}
	})
}

func (s *sim) drain() {
	for _, n := range s.nodes {
		for n.c != nil && n.c.rn.HasReady() {
			if err := n.c.handleReady(); err != nil {
				s.fail("node %d: %v", n.id, err)
			}
		}
	}
}

// check holds the invariants after a step.
func (s *sim) check() {
	for _, n := range s.nodes {
		if n.c == nil {
			continue
		}
		st := n.c.rn.BasicStatus()
		if st.RaftState == raft.StateLeader {
			if prev, ok := s.leaders[st.GetTerm()]; ok && prev != n.id {
				s.fail("nodes %d and %d both lead term %d", prev, n.id, st.GetTerm())
			}
			s.leaders[st.GetTerm()] = n.id
		}
		commit := st.HardState.GetCommit()
		if commit <= n.seen {
			continue
		}
		ents, err := n.c.store.mem.Entries(n.seen+1, commit+1, math.MaxUint64)
		if err != nil {
			s.fail("node %d entries %d..%d: %v", n.id, n.seen+1, commit, err)
		}
		for _, e := range ents {
			got := fmt.Sprintf("term %d type %s crc %08x", e.GetTerm(), e.GetType(), crc32.ChecksumIEEE(entryContent(e)))
			if want, ok := s.committed[e.GetIndex()]; ok && want != got {
				s.fail("node %d committed %s at index %d, another node committed %s", n.id, got, e.GetIndex(), want)
			}
			s.committed[e.GetIndex()] = got
		}
		n.seen = commit
	}
}

// converge heals everything, restarts every node and runs until the
// quorum agrees; then every acknowledged topic must be in every image.
func (s *sim) converge() {
	clear(s.cut)
	for _, n := range s.nodes {
		if n.c == nil {
			s.note("node %d restarts", n.id)
			s.start(n)
		}
	}
	for round := 0; ; round++ {
		if round > 3000 {
			s.fail("no convergence after the network healed")
		}
		s.step++
		if s.leader() == nil && round%40 == 0 {
			n := s.nodes[s.rng.IntN(3)]
			s.note("node %d campaigns", n.id)
			n.c.rn.Campaign()
		}
		for len(s.net) > 0 {
			s.deliver()
			s.step++
			s.drain()
			s.check()
		}
		s.tickLeaders()
		s.drain()
		s.check()
		if s.agreed() {
			break
		}
	}
	for _, n := range s.nodes {
		img := n.c.committed
		for _, name := range s.acked {
			if img.Topics.ByName(name) == nil {
				s.fail("acknowledged topic %s missing from node %d's image (offset %d)", name, n.id, img.Offset)
			}
		}
	}
}

func (s *sim) leader() *simNode {
	for _, n := range s.nodes {
		if n.c.rn.BasicStatus().RaftState == raft.StateLeader {
			return n
		}
	}
	return nil
}

// agreed: one ready leader, and every node has applied its whole log.
func (s *sim) agreed() bool {
	l := s.leader()
	if l == nil || !l.c.ready {
		return false
	}
	last, _ := l.c.store.mem.LastIndex()
	for _, n := range s.nodes {
		if uint64(n.c.committed.Offset) != last {
			return false
		}
	}
	return true
}

// entryContent is what identifies an entry's content: a normal entry read
// back from disk has its batch's base offset and leader epoch set (bytes
// 0-7 and 12-15), which the proposing leader's copy does not, so only the
// batch from its CRC on is compared.
func entryContent(e *raftpb.Entry) []byte {
	if e.GetType() == raftpb.EntryNormal && len(e.Data) >= 61 {
		return e.Data[17:]
	}
	return e.Data
}

// simDir is a fresh directory in memory when the machine has /dev/shm:
// the simulated disk is real files, and fsyncs of quorum-state on a real
// disk would be most of a seed's time. The seed removes it when it ends;
// the cleanup is for a seed that failed.
func simDir(t *testing.T) string {
	dir, err := os.MkdirTemp("/dev/shm", "spool-sim-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
