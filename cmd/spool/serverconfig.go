//go:build linux

package main

import (
	"fmt"
	"os"
	"sort"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"spool/config"
)

// serverFlags are the flags shared by `server` and `storage`.
type serverFlags struct {
	configFile string
	overrides  []string
	roles      string
	nodeID     int
	listeners  string
	advertised string
	voters     string
	logDirs    string
	// debugListener is host:port for pprof and counters; empty is off.
	debugListener string
	// httpListener is --http-listener: http.listener when given (empty
	// turns it off), the config's otherwise.
	httpListener *pflag.Flag
}

func (f *serverFlags) register(cmd *cobra.Command, withCommon bool) {
	cmd.Flags().StringVar(&f.configFile, "config", "", "Kafka-style properties file")
	cmd.Flags().StringArrayVar(&f.overrides, "override", nil, "set a property, key=value (repeatable)")
	f.nodeID = -1
	if !withCommon {
		return
	}
	cmd.Flags().StringVar(&f.roles, "process-roles", "", "process.roles: broker, controller or broker,controller")
	cmd.Flags().IntVar(&f.nodeID, "node-id", -1, "node.id")
	cmd.Flags().StringVar(&f.listeners, "listeners", "", "listeners, e.g. PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093")
	cmd.Flags().StringVar(&f.advertised, "advertised-listeners", "", "advertised.listeners")
	cmd.Flags().StringVar(&f.voters, "controller-quorum-voters", "", "controller.quorum.voters, e.g. 1@localhost:9093")
	cmd.Flags().StringVar(&f.logDirs, "log-dirs", "", "log.dirs")
	cmd.Flags().String("http-listener", "", "http.listener: host:port for /metrics, /healthz and /readyz; empty turns it off (default localhost:9644 without --config)")
	f.httpListener = cmd.Flags().Lookup("http-listener")
	cmd.Flags().StringVar(&f.debugListener, "debug-listener", "", "serve net/http/pprof and counters on this host:port, e.g. 127.0.0.1:6060 (off by default)")
}

// devDefaults make `spool server` with no --config a ready single node.
var devDefaults = map[string]string{
	"process.roles":             "broker,controller",
	"node.id":                   "1",
	"listeners":                 "PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093",
	"controller.listener.names": "CONTROLLER",
	"controller.quorum.voters":  "1@localhost:9093",
	"log.dirs":                  "./spool-data",
	"http.listener":             "localhost:9644",
}

// devMode reports whether the process runs on the built-in single-node
// defaults (no --config).
func (f *serverFlags) devMode() bool { return f.configFile == "" }

// load reads the properties file (or the single-node defaults), applies
// flags and overrides, and validates everything. Problems exit 2.
func (f *serverFlags) load() (*config.Config, *config.Node, []string, error) {
	props := map[string]string{}
	if f.devMode() {
		for k, v := range devDefaults {
			props[k] = v
		}
	} else {
		read, err := config.ReadPropertiesFile(f.configFile)
		if err != nil {
			return nil, nil, nil, usageErrorf("%v", err)
		}
		props = read
	}
	set := func(k, v string) {
		if v != "" {
			props[k] = v
		}
	}
	set("process.roles", f.roles)
	if f.nodeID >= 0 {
		props["node.id"] = fmt.Sprint(f.nodeID)
	}
	set("listeners", f.listeners)
	set("advertised.listeners", f.advertised)
	set("controller.quorum.voters", f.voters)
	set("log.dirs", f.logDirs)
	if f.httpListener != nil && f.httpListener.Changed {
		props["http.listener"] = f.httpListener.Value.String()
	}
	for _, o := range f.overrides {
		k, v, err := config.ParseOverride(o)
		if err != nil {
			return nil, nil, nil, usageErrorf("%v", err)
		}
		props[k] = v
	}
	cfg, problems, unknown := config.New(props)
	var lines []string
	for _, p := range problems {
		lines = append(lines, p.Error())
	}
	if len(lines) == 0 {
		node, nodeProblems := cfg.Node()
		for _, p := range nodeProblems {
			lines = append(lines, p.Error())
		}
		if len(lines) == 0 {
			return cfg, node, unknown, nil
		}
	}
	sort.Strings(lines)
	return nil, nil, nil, problemsError("invalid configuration", lines)
}

// checkDirs makes sure every log dir exists (creating it) and is writable.
func checkDirs(dirs []string) error {
	var lines []string
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			lines = append(lines, fmt.Sprintf("log dir %s: %v", d, err))
			continue
		}
		f, err := os.CreateTemp(d, ".spool-check-*")
		if err != nil {
			lines = append(lines, fmt.Sprintf("log dir %s is not writable: %v", d, err))
			continue
		}
		f.Close()
		os.Remove(f.Name())
	}
	if len(lines) > 0 {
		return problemsError("unusable log dirs", lines)
	}
	return nil
}
