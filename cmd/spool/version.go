package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set at link time by the Makefile (-ldflags "-X main.version=..."); a
// plain `go build` leaves them empty and buildInfo falls back to what the
// Go toolchain recorded in the binary.
var (
	version string
	commit  string
	date    string
)

// versionInfo is what `spool version` prints.
type versionInfo struct {
	Version    string `json:"version"`
	Commit     string `json:"commit"`
	Modified   bool   `json:"modified,omitempty"`
	BuildDate  string `json:"build_date,omitempty"`
	CommitDate string `json:"commit_date,omitempty"`
	GoVersion  string `json:"go_version"`
	Platform   string `json:"platform"`
}

// buildInfo prefers the values linked in by the Makefile, then the module
// version and VCS stamp the toolchain embeds, then "devel" and "unknown".
func buildInfo() versionInfo {
	v := versionInfo{Version: version, Commit: commit, BuildDate: date, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if v.Commit == "" {
					v.Commit = s.Value
				}
			case "vcs.time":
				if v.BuildDate == "" {
					v.CommitDate = s.Value
				}
			case "vcs.modified":
				v.Modified = commit == "" && s.Value == "true"
			}
		}
	}
	if v.Version == "" {
		v.Version = "devel"
	}
	if v.Commit == "" {
		v.Commit = "unknown"
	}
	return v
}

// short is the one-line form: --version and the start-up banner.
func (v versionInfo) short() string {
	c := v.Commit
	if len(c) > 12 {
		c = c[:12]
	}
	if v.Modified {
		c += "+modified"
	}
	switch {
	case v.BuildDate != "":
		return fmt.Sprintf("%s (commit %s, built %s)", v.Version, c, v.BuildDate)
	case v.CommitDate != "":
		return fmt.Sprintf("%s (commit %s of %s)", v.Version, c, v.CommitDate)
	}
	return fmt.Sprintf("%s (commit %s)", v.Version, c)
}

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date of this binary",
		Example: `  spool version
  spool version --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			v := buildInfo()
			p := a.printer(cmd.OutOrStdout())
			if p.json {
				return p.emitJSON(v)
			}
			commit := v.Commit
			if v.Modified {
				commit += " (with uncommitted changes)"
			}
			kv := []string{"Version", v.Version, "Commit", commit}
			if v.BuildDate != "" {
				kv = append(kv, "Built", v.BuildDate)
			}
			if v.CommitDate != "" {
				kv = append(kv, "Committed", v.CommitDate)
			}
			p.pairs(append(kv, "Go", v.GoVersion, "Platform", v.Platform)...)
			return nil
		},
	}
}
