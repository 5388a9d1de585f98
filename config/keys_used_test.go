package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// keyRead matches a configuration key read by name: c.Int("log.retention.ms"),
// cfg.Static.Bool("auto.create.topics.enable"), topic.Get("cleanup.policy").
var keyRead = regexp.MustCompile(`\.(?:Int|Bool|Get|Float|List|IsSet|Broker|Topic|Dynamic)\(\s*(?:[a-zA-Z_.]+,\s*)?"([a-z][a-z0-9_-]*(?:\.[a-z0-9_-]+)+)"`)

// Every key the code reads by name is in the config table, so no read can
// fall through to "" for a typo or a key nobody defined.
func TestEveryKeyReadIsDefined(t *testing.T) {
	root := ".."
	seen := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == "test" || strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range keyRead.FindAllSubmatch(src, -1) {
			key := string(m[1])
			seen++
			if LookupBroker(key) == nil && LookupTopic(key) == nil {
				t.Errorf("%s reads %q, which is not in the config table", rel, key)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 50 {
		t.Fatalf("found only %d keys read by name; the pattern no longer matches how the code reads configs", seen)
	}
}
