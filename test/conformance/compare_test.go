package conformance

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
)

// flatten turns a response into path -> value, e.g.
// "Topics[t1].Partitions[0].ErrorCode" -> "3". Array elements that carry
// a name or a partition number are labelled by it, so the comparison does
// not depend on the order a server lists them in.
func flatten(v any) map[string]string {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		panic(err)
	}
	out := map[string]string{}
	walk(tree, "", out)
	return out
}

// labelFields name an array element, first match wins.
var labelFields = []string{"Topic", "Name", "Partition", "ResourceName", "Group", "TransactionalID", "Key", "ApiKey", "Path"}

func walk(v any, path string, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k == "UnknownTags" {
				continue
			}
			p := k
			if path != "" {
				p = path + "." + k
			}
			walk(e, p, out)
		}
	case []any:
		n := 0
		for i, e := range x {
			l := label(e, i)
			if _, missing := missingConfigs[l]; missing && strings.HasSuffix(path, "Configs") {
				continue
			}
			n++
			walk(e, fmt.Sprintf("%s[%s]", path, l), out)
		}
		out[path+".len"] = fmt.Sprint(n)
	case nil:
		out[path] = "null"
	default:
		out[path] = fmt.Sprint(x)
	}
}

func label(e any, i int) string {
	m, ok := e.(map[string]any)
	if !ok {
		return fmt.Sprint(i)
	}
	for _, f := range labelFields {
		if v, ok := m[f]; ok && v != nil {
			if s, ok := v.(string); ok || f == "Partition" || f == "ApiKey" {
				if ok {
					return s
				}
				return fmt.Sprint(v)
			}
		}
	}
	return fmt.Sprint(i)
}

var (
	patMu    sync.Mutex
	patCache = map[string]*regexp.Regexp{}
)

// pattern compiles a path pattern: "[*]" matches any one array label,
// "*" a field name or part of one, "**" anything; the rest is literal.
func pattern(p string) *regexp.Regexp {
	patMu.Lock()
	defer patMu.Unlock()
	if re, ok := patCache[p]; ok {
		return re
	}
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		switch {
		case strings.HasPrefix(p[i:], "[*]"):
			b.WriteString(`\[[^\]]*\]`)
			i += 2
		case strings.HasPrefix(p[i:], "**"):
			b.WriteString(".*")
			i++
		case p[i] == '*':
			b.WriteString(`[^.\[]*`)
		default:
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
	}
	b.WriteString("$")
	re := regexp.MustCompile(b.String())
	patCache[p] = re
	return re
}

func matchAny(path string, pats []string) bool {
	for _, p := range pats {
		if pattern(p).MatchString(path) {
			return true
		}
	}
	return false
}

// alwaysIgnored differ between any two servers and are never compared.
var alwaysIgnored = []string{"**ThrottleMillis", "**ErrorMessage", "**Host", "**Port", "**ClusterID", "**TopicID",
	"**CurrentLeader.LeaderEpoch", "**AuthorizedOperations"}

// diff lists the paths selected by keep (less ignore) whose values differ.
func diff(kafka, spool any, keep, ignore []string) []string {
	k, s := flatten(kafka), flatten(spool)
	paths := map[string]bool{}
	for p := range k {
		paths[p] = true
	}
	for p := range s {
		paths[p] = true
	}
	var out []string
	for p := range paths {
		if !matchAny(p, keep) || matchAny(p, ignore) || matchAny(p, alwaysIgnored) {
			continue
		}
		kv, kok := k[p]
		sv, sok := s[p]
		if !kok {
			kv = "(absent)"
		}
		if !sok {
			sv = "(absent)"
		}
		if kv != sv {
			if strings.HasSuffix(p, "ErrorCode") {
				kv, sv = codeName(kv), codeName(sv)
			}
			out = append(out, fmt.Sprintf("%s: kafka %s, spool %s", p, kv, sv))
		}
	}
	sort.Strings(out)
	return out
}

func codeName(v string) string {
	n, err := strconv.Atoi(v)
	if err != nil || n == 0 {
		return v
	}
	if ke, ok := kerr.ErrorForCode(int16(n)).(*kerr.Error); ok {
		return ke.Message
	}
	return v
}
