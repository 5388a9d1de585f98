package logging

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"go.uber.org/zap/zapcore"
)

// Levels holds the root level and the levels set for named loggers. A
// logger without a level of its own takes that of its nearest named
// ancestor ("broker.replicas" takes "broker"'s), then the root's. Readers
// load an immutable table; setters copy it.
type Levels struct {
	mu    sync.Mutex
	table atomic.Pointer[levelTable]
}

type levelTable struct {
	root  zapcore.Level
	named map[string]zapcore.Level
	min   zapcore.Level // the lowest level enabled anywhere
}

// ParseLevels reads a spec like "info" or "info,request=debug,controller.raft=warn":
// the root level, then name=level pairs.
func ParseLevels(spec string) (*Levels, error) {
	t := &levelTable{root: zapcore.InfoLevel, named: map[string]zapcore.Level{}}
	for i, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		name, lvl, named := strings.Cut(part, "=")
		if !named {
			if i > 0 {
				return nil, fmt.Errorf("%q: only the first item may be a bare level; name the others as logger=level", part)
			}
			lvl = name
		}
		var l zapcore.Level
		if err := l.UnmarshalText([]byte(strings.TrimSpace(lvl))); err != nil {
			return nil, fmt.Errorf("%q: %v", part, err)
		}
		if named {
			t.named[strings.TrimSpace(name)] = l
		} else {
			t.root = l
		}
	}
	t.min = t.lowest()
	ls := &Levels{}
	ls.table.Store(t)
	return ls, nil
}

func (t *levelTable) lowest() zapcore.Level {
	min := t.root
	for _, l := range t.named {
		if l < min {
			min = l
		}
	}
	return min
}

// enabled reports whether logger name logs at lvl.
func (t *levelTable) enabled(name string, lvl zapcore.Level) bool {
	if lvl < t.min {
		return false
	}
	for n := name; ; {
		if l, ok := t.named[n]; ok {
			return lvl >= l
		}
		i := strings.LastIndexByte(n, '.')
		if i < 0 {
			return lvl >= t.root
		}
		n = n[:i]
	}
}

// Levels returns the root level ("root") and every named level.
func (ls *Levels) Levels() map[string]string {
	t := ls.table.Load()
	out := map[string]string{"root": t.root.String()}
	for n, l := range t.named {
		out[n] = l.String()
	}
	return out
}

// SetLevel sets logger name's level ("" is the root); level "default"
// removes a named logger's own level.
func (ls *Levels) SetLevel(name, level string) error {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	old := ls.table.Load()
	t := &levelTable{root: old.root, named: make(map[string]zapcore.Level, len(old.named)+1)}
	for n, l := range old.named {
		t.named[n] = l
	}
	switch {
	case level == "default" && name != "":
		delete(t.named, name)
	default:
		var l zapcore.Level
		if err := l.UnmarshalText([]byte(level)); err != nil {
			return fmt.Errorf("level %q: %v (debug, info, warn, error, or default)", level, err)
		}
		if name == "" {
			t.root = l
		} else {
			t.named[name] = l
		}
	}
	t.min = t.lowest()
	ls.table.Store(t)
	return nil
}

// Names lists the named levels, sorted.
func (ls *Levels) Names() []string {
	t := ls.table.Load()
	out := make([]string, 0, len(t.named))
	for n := range t.named {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
