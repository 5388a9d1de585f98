package consumergroup

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"spool/broker/group"
)

// pendingWrite is what to do once a write is durable or has failed.
type pendingWrite struct {
	done []func(out *Out, err *kerr.Error)
}

// write asks the caller to persist recs and calls done once they are
// durable. A response must not show state the log might lose, so with no
// records done still waits for the writes before it.
func (g *Group) write(out *Out, recs []group.Record, done func(out *Out, err *kerr.Error)) {
	if len(recs) == 0 {
		if g.lastWrite != nil && done != nil {
			g.lastWrite.done = append(g.lastWrite.done, done)
		} else if done != nil {
			done(out, nil)
		}
		return
	}
	g.nextWrite++
	w := &pendingWrite{}
	if done != nil {
		w.done = append(w.done, done)
	}
	g.writes[g.nextWrite] = w
	g.lastWrite = w
	out.Writes = append(out.Writes, group.Write{ID: g.nextWrite, Records: recs})
}

// WriteDone reports that write id is durable (err nil) or failed with err,
// mapped to the error the client should see. After a failure the group's
// state is ahead of its log: Out.Reload asks the caller to load the group
// again from the log before serving it.
func (g *Group) WriteDone(id uint64, err *kerr.Error, now time.Time) Out {
	var out Out
	w := g.writes[id]
	if w == nil {
		return out
	}
	delete(g.writes, id)
	if g.lastWrite == w {
		g.lastWrite = nil
	}
	for _, fn := range w.done {
		fn(&out, err)
	}
	if err != nil {
		out.Reload = true
	}
	return out
}

// Close answers every waiting request with NOT_COORDINATOR: the broker no
// longer leads the group's partition. The group must not be used after.
func (g *Group) Close(now time.Time) Out {
	var out Out
	for id := range g.writes {
		out.merge(g.WriteDone(id, kerr.NotCoordinator, now))
	}
	out.Reload = false
	g.armed = map[TimerKey]time.Time{}
	g.dead = true
	return out
}
