package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"spool/config"
	"spool/protocol"
	"spool/security"
)

// defaultBootstrap is where a `make run` node listens.
const defaultBootstrap = "localhost:9092"

// app holds the persistent flags every client command shares.
type app struct {
	bootstrap string
	format    string
}

// clientFlags are the connection flags of one client command. They are
// local to each command: only --bootstrap-server and --format persist.
type clientFlags struct {
	timeout       time.Duration
	commandConfig string
}

func (f *clientFlags) register(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&f.timeout, "timeout", 30*time.Second, "how long to wait for the cluster before giving up")
	cmd.Flags().StringVar(&f.commandConfig, "command-config", "", "client properties file, as Kafka's tools take (security.protocol, ssl.*, sasl.mechanism, sasl.jaas.config, client.id, request.timeout.ms)")
}

// session is a connected client for one command run.
type session struct {
	ctx    context.Context
	cancel context.CancelFunc
	cl     *kgo.Client
	adm    *kadm.Client
	addrs  []string
	// dial connects with --command-config's TLS and SASL, for requests
	// kgo cannot send; nil is plain TCP.
	dial protocol.DialFunc
}

func (s *session) close() {
	s.adm.Close()
	s.cancel()
}

// seeds returns the bootstrap addresses, checking their form.
func (a *app) seeds() ([]string, error) {
	var out []string
	for _, s := range strings.Split(a.bootstrap, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if _, port, ok := strings.Cut(s, ":"); !ok || port == "" {
			return nil, usageErrorf("--bootstrap-server %q: want host:port", s)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, usageErrorf("--bootstrap-server is empty")
	}
	return out, nil
}

// connect builds a client from the flags and checks that the cluster
// answers, so an unreachable address fails with one clear line instead of
// a retry loop. extra options come last (producers and consumers add theirs).
func (a *app) connect(cmd *cobra.Command, f *clientFlags, extra ...kgo.Opt) (*session, error) {
	addrs, err := a.seeds()
	if err != nil {
		return nil, err
	}
	opts, dial, err := f.security()
	if err != nil {
		return nil, err
	}
	if err := dialAny(addrs, min(f.timeout, 5*time.Second)); err != nil {
		return nil, unreachable(addrs, err)
	}
	opts = append([]kgo.Opt{kgo.SeedBrokers(addrs...), kgo.ClientID("spool-cli"), kgo.DialTimeout(5 * time.Second)}, opts...)
	opts = append(opts, extra...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
	s := &session{ctx: ctx, cancel: cancel, cl: cl, adm: kadm.NewClient(cl), addrs: addrs, dial: dial}
	s.adm.SetTimeoutMillis(int32(min(f.timeout.Milliseconds(), 1<<31-1)))
	if err := cl.Ping(ctx); err != nil {
		s.close()
		return nil, unreachable(addrs, err)
	}
	return s, nil
}

// options turns --command-config into client options: Kafka's client
// properties for security (security.protocol, ssl.*, sasl.mechanism,
// sasl.jaas.config), client.id and request.timeout.ms. Anything else, or a
// security setting Spool cannot honour, fails loudly rather than
// connecting without it.
func (f *clientFlags) options() ([]kgo.Opt, error) {
	opts, _, err := f.security()
	return opts, err
}

// security is options plus a dialer for requests kgo cannot send (Spool's
// private APIs), with the same TLS and SASL.
func (f *clientFlags) security() ([]kgo.Opt, protocol.DialFunc, error) {
	if f.commandConfig == "" {
		return nil, nil, nil
	}
	props, err := config.ReadPropertiesFile(f.commandConfig)
	if err != nil {
		return nil, nil, usageErrorf("--command-config: %v", err)
	}
	var opts []kgo.Opt
	secProps := map[string]string{}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := strings.TrimSpace(props[k])
		switch {
		case security.IsClientSecurityKey(k), strings.HasPrefix(k, "sasl."), strings.HasPrefix(k, "ssl."):
			secProps[k] = v
		case k == "client.id":
			opts = append(opts, kgo.ClientID(v))
		case k == "request.timeout.ms":
			ms, err := strconv.ParseInt(v, 10, 32)
			if err != nil || ms <= 0 {
				return nil, nil, usageErrorf("--command-config %s: request.timeout.ms=%s is not a positive number of milliseconds", f.commandConfig, v)
			}
			opts = append(opts, kgo.RequestTimeoutOverhead(time.Duration(ms)*time.Millisecond))
		default:
			return nil, nil, usageErrorf("--command-config %s: unsupported client property %s (supported: security.protocol, ssl.*, sasl.mechanism, sasl.jaas.config, sasl.oauthbearer.token, client.id, request.timeout.ms)", f.commandConfig, k)
		}
	}
	cc, err := security.ParseClientProperties(secProps)
	if err != nil {
		return nil, nil, usageErrorf("--command-config %s: %v", f.commandConfig, err)
	}
	tlsCfg, err := cc.TLSConfig("")
	if err != nil {
		return nil, nil, usageErrorf("--command-config %s: %v", f.commandConfig, err)
	}
	if tlsCfg != nil {
		opts = append(opts, kgo.DialTLSConfig(tlsCfg))
	}
	mech, err := cc.SASL()
	if err != nil {
		return nil, nil, usageErrorf("--command-config %s: %v", f.commandConfig, err)
	}
	if mech != nil {
		opts = append(opts, kgo.SASL(mech))
	}
	var dial protocol.DialFunc
	if cc.Protocol != "PLAINTEXT" {
		dial = cc.Dialer("spool-cli")
	}
	return opts, dial, nil
}

// interruptible returns a context cancelled by Ctrl-C or SIGTERM, for
// commands that stream until stopped.
func interruptible(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}

// checkFormat accepts text or json; templates are only for consume.
func (a *app) checkFormat() error {
	switch a.format {
	case "text", "json":
		return nil
	}
	return usageErrorf("--format %q: want text or json", a.format)
}

// bootstrapDefault is the --bootstrap-server default: the environment's
// SPOOL_BOOTSTRAP_SERVERS, else localhost:9092.
func bootstrapDefault() string {
	if v := os.Getenv("SPOOL_BOOTSTRAP_SERVERS"); v != "" {
		return v
	}
	return defaultBootstrap
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
