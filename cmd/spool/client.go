package main

import (
	"context"
	"fmt"
	"io"
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
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/config"
	"spool/protocol"
	"spool/security"
)

// defaultBootstrap is where `spool server` with no arguments listens.
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
	// sec is what commandConfig asked for, filled in by security().
	sec secured
}

func (f *clientFlags) register(cmd *cobra.Command, stream bool) {
	help := "give up when the cluster has not finished the command by then"
	if stream {
		help = "give up when the cluster does not answer by then (connecting, and each acknowledgement); the stream itself runs until it ends"
	}
	cmd.Flags().DurationVar(&f.timeout, "timeout", 30*time.Second, help)
	cmd.Flags().StringVar(&f.commandConfig, "command-config", os.Getenv("SPOOL_COMMAND_CONFIG"), "client properties file, as Kafka's tools take (security.protocol, ssl.*, sasl.mechanism, sasl.jaas.config, client.id, request.timeout.ms; env SPOOL_COMMAND_CONFIG)")
}

// session is a connected client for one command run.
type session struct {
	// ctx ends at --timeout or Ctrl-C.
	ctx     context.Context
	cl      *kgo.Client
	adm     *kadm.Client
	addrs   []string
	timeout time.Duration
	out     *printer
	errw    io.Writer
	watch   *watch
	// dial connects with --command-config's TLS and SASL, for requests
	// kgo cannot send; nil is plain TCP.
	dial protocol.DialFunc
}

func (s *session) close() { s.adm.Close() }

// stream ends --timeout's hold on the command: what follows runs until
// Ctrl-C or its own end. The context it returns ends on Ctrl-C only.
func (s *session) stream(parent context.Context) (context.Context, context.CancelFunc) {
	s.watch.startStream()
	return interruptible(parent)
}

// seeds returns the bootstrap addresses, checking their form.
func seeds(bootstrap string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(bootstrap, ",") {
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
// a retry loop. extra options come last (producers and consumers add
// theirs). A controller listener serves no Metadata: there only ApiVersions
// is asked.
func (a *app) connect(ctx context.Context, cmd *cobra.Command, f *clientFlags, w *watch, addrs []string, controller bool, extra ...kgo.Opt) (*session, error) {
	opts, dial, err := f.security()
	if err != nil {
		return nil, err
	}
	w.set(stageDial, strings.Join(addrs, ","))
	if err := dialAny(ctx, addrs); err != nil {
		return nil, unreachable(addrs, err)
	}
	w.set(stageHandshake, strings.Join(addrs, ","))
	dialTimeout := min(f.timeout, 10*time.Second)
	opts = append([]kgo.Opt{kgo.SeedBrokers(addrs...), kgo.ClientID("spool-cli"), kgo.DialTimeout(dialTimeout),
		kgo.RetryTimeout(f.timeout), kgo.WithHooks(w)}, opts...)
	opts = append(opts, extra...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	s := &session{ctx: ctx, cl: cl, adm: kadm.NewClient(cl), addrs: addrs, timeout: f.timeout,
		out: &printer{w: cmd.OutOrStdout(), json: a.format == "json"}, errw: cmd.ErrOrStderr(), watch: w, dial: dial}
	s.adm.SetTimeoutMillis(int32(min(f.timeout.Milliseconds(), 1<<31-1)))
	ping := cl.Ping
	if controller {
		ping = func(ctx context.Context) error {
			_, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctx, cl.SeedBrokers()[0])
			return err
		}
	}
	if err := ping(ctx); err != nil {
		s.close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, notKafka(addrs, err, f.sec)
	}
	w.set(stageRun, "")
	return s, nil
}

// security turns --command-config into client options: Kafka's client
// properties for security (security.protocol, ssl.*, sasl.mechanism,
// sasl.jaas.config), client.id and request.timeout.ms. Anything else, or a
// security setting Spool cannot honour, fails loudly rather than
// connecting without it. The dialer, with the same TLS and SASL, is for
// requests kgo cannot send (Spool's private APIs).
func (f *clientFlags) security() ([]kgo.Opt, protocol.DialFunc, error) {
	f.sec = secured{file: f.commandConfig, protocol: "PLAINTEXT"}
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
	f.sec.mechanism = secProps["sasl.mechanism"]
	if p := secProps["security.protocol"]; p != "" {
		f.sec.protocol = strings.ToUpper(p)
	}
	secOpts, dial, err := clientSecurity(secProps)
	if err != nil {
		return nil, nil, usageErrorf("--command-config %s: %v", f.commandConfig, err)
	}
	return append(opts, secOpts...), dial, nil
}

// clientSecurity builds TLS and SASL options from Kafka's client
// security properties.
func clientSecurity(props map[string]string) ([]kgo.Opt, protocol.DialFunc, error) {
	cc, err := security.ParseClientProperties(props)
	if err != nil {
		return nil, nil, err
	}
	var opts []kgo.Opt
	tlsCfg, err := cc.TLSConfig("")
	if err != nil {
		return nil, nil, err
	}
	if tlsCfg != nil {
		opts = append(opts, kgo.DialTLSConfig(tlsCfg))
	}
	mech, err := cc.SASL()
	if err != nil {
		return nil, nil, err
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

// interruptible returns a context cancelled by Ctrl-C or SIGTERM.
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
