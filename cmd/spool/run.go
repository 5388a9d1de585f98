package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

// clientCmd is the part of a subcommand that talks to the cluster. a.client
// wraps it in what every such command shares: --format and usage checks,
// connecting, --timeout over the whole run, and closing the client.
type clientCmd struct {
	// templates lets --format be a Go template as well as text or json.
	templates bool
	// stream marks a command whose main part runs until its input, a
	// count or Ctrl-C ends it (produce, consume): --timeout bounds what
	// comes before s.stream() is called.
	stream bool
	// bootstrap, when set, names a controller listener to connect to
	// instead of --bootstrap-server.
	bootstrap func() (string, error)
	// check validates flags and arguments before connecting.
	check func(args []string) error
	// opts adds client options; it runs after check.
	opts func(args []string, timeout time.Duration) ([]kgo.Opt, error)
	// run does the work once connected.
	run func(s *session, args []string) error
}

// client registers the connection flags on cmd and makes c its action.
func (a *app) client(cmd *cobra.Command, c clientCmd) *cobra.Command {
	f := &clientFlags{}
	f.register(cmd, c.stream)
	cmd.RunE = func(cmd *cobra.Command, args []string) error { return a.runClient(cmd, f, &c, args) }
	return cmd
}

func (a *app) runClient(cmd *cobra.Command, f *clientFlags, c *clientCmd, args []string) error {
	if !c.templates {
		if err := a.checkFormat(); err != nil {
			return err
		}
	}
	if f.timeout <= 0 {
		return usageErrorf("--timeout %v: want a positive duration such as 10s", f.timeout)
	}
	if c.check != nil {
		if err := c.check(args); err != nil {
			return err
		}
	}
	bootstrap := a.bootstrap
	if c.bootstrap != nil {
		var err error
		if bootstrap, err = c.bootstrap(); err != nil {
			return err
		}
	}
	addrs, err := seeds(bootstrap)
	if err != nil {
		return err
	}
	var extra []kgo.Opt
	if c.opts != nil {
		if extra, err = c.opts(args, f.timeout); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
	defer cancel()
	ctx, stop := interruptible(ctx)
	defer stop()
	w := newWatch()
	// The command runs on its own goroutine so that --timeout holds even
	// where a library call does not watch the context (kgo's first
	// handshake with a silent broker waits out its own 10 s timeout).
	done := make(chan error, 1)
	go func() {
		s, err := a.connect(ctx, cmd, f, w, addrs, c.bootstrap != nil, extra...)
		if err != nil {
			done <- err
			return
		}
		err = c.run(s, args)
		// Close before reporting: a group member leaves its group here,
		// and the process exits as soon as the result is in.
		s.close()
		done <- err
	}()
	select {
	case err := <-done:
		return explain(ctx, err, cmd, f, w)
	case <-w.streamed:
		return explain(ctx, <-done, cmd, f, w)
	case <-ctx.Done():
	}
	// A command that notices the deadline itself returns at once; give it
	// a moment so that its own, more specific error wins.
	select {
	case err := <-done:
		return explain(ctx, err, cmd, f, w)
	case <-time.After(200 * time.Millisecond):
		return explain(ctx, ctx.Err(), cmd, f, w)
	}
}

// explain turns the context's end into what the user needs to know: a
// timeout names what did not answer; Ctrl-C exits quietly with 130.
func explain(ctx context.Context, err error, cmd *cobra.Command, f *clientFlags, w *watch) error {
	if err == nil {
		return nil
	}
	select {
	case <-w.streamed:
		// Past the part --timeout bounds: the command's own error stands.
		return err
	default:
	}
	// A broker met after the first can still refuse the login.
	if e := authFailure("a broker of the cluster", err, f.sec); e != nil {
		return e
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return w.timeoutError(cmd.CommandPath(), f.timeout)
	case errors.Is(ctx.Err(), context.Canceled) && cmd.Context().Err() == nil:
		return &exitError{code: 130}
	}
	return err
}

// outcome is one item of a command that acts on several (topics created,
// groups deleted, partitions trimmed).
type outcome interface {
	subject() string // "topic orders"
	failure() string // why it failed; "" when it worked
}

// report prints a batch's outcomes, as one JSON array or as a line per
// item: successes (text's line, unless empty) on stdout, failures on
// stderr. The command fails when any item did.
func report[T outcome](s *session, items []T, text func(T) string) error {
	failed := 0
	for _, it := range items {
		if it.failure() != "" {
			failed++
		}
	}
	if s.out.json {
		if items == nil {
			items = []T{}
		}
		if err := s.out.emitJSON(items); err != nil {
			return err
		}
		return failures(failed)
	}
	for _, it := range items {
		if f := it.failure(); f != "" {
			fmt.Fprintf(s.errw, "spool: %s: %s\n", it.subject(), f)
		} else if text != nil {
			if line := text(it); line != "" {
				fmt.Fprintln(s.out.w, line)
			}
		}
	}
	return failures(failed)
}

// show prints v as JSON, or as text through text.
func show(s *session, v any, text func(p *printer)) error {
	if s.out.json {
		return s.out.emitJSON(v)
	}
	text(s.out)
	return nil
}
