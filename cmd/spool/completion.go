package main

import (
	"context"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func newCompletionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print a shell completion script",
		Long: `Print a completion script for your shell. Load it in the current shell or
install it where your shell looks for completions. Besides commands and
flags, it completes topic and group names, asking the cluster at
--bootstrap-server (or SPOOL_BOOTSTRAP_SERVERS) for them.`,
		Example: `  source <(spool completion bash)
  spool completion zsh > "${fpath[1]}/_spool"
  spool completion fish > ~/.config/fish/completions/spool.fish`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"bash", "zsh", "fish"},
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, true)
			}
			return usageErrorf("completion: unknown shell %q (want bash, zsh or fish)", args[0])
		},
	}
}

// completionTimeout keeps a shell from hanging on a cluster that does not
// answer: no names is better than a frozen prompt.
const completionTimeout = 3 * time.Second

func (a *app) completeTopics(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return a.completeArg(cmd, args, toComplete, topicNames)
}

func (a *app) completeGroups(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return a.completeArg(cmd, args, toComplete, groupNames)
}

func (a *app) completeTopicFlag(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return a.names(cmd, nil, toComplete, topicNames)
}

func (a *app) completeGroupFlag(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return a.names(cmd, nil, toComplete, groupNames)
}

// completeArg completes one more positional argument, if cmd takes one.
func (a *app) completeArg(cmd *cobra.Command, args []string, toComplete string, list lister) ([]string, cobra.ShellCompDirective) {
	if cmd.Args != nil && cmd.Args(cmd, append(slices.Clone(args), toComplete)) != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return a.names(cmd, args, toComplete, list)
}

type lister func(context.Context, *kadm.Client) ([]string, error)

func topicNames(ctx context.Context, adm *kadm.Client) ([]string, error) {
	ts, err := adm.ListTopics(ctx)
	return ts.Names(), err
}

func groupNames(ctx context.Context, adm *kadm.Client) ([]string, error) {
	gs, err := adm.ListGroups(ctx)
	return gs.Groups(), err
}

// names asks the cluster for names starting with prefix, leaving out the
// ones already on the command line. It connects as the command would,
// with its --command-config (or SPOOL_COMMAND_CONFIG).
func (a *app) names(cmd *cobra.Command, given []string, prefix string, list lister) ([]string, cobra.ShellCompDirective) {
	addrs, err := seeds(a.bootstrap)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	f := clientFlags{commandConfig: os.Getenv("SPOOL_COMMAND_CONFIG")}
	if fl := cmd.Flags().Lookup("command-config"); fl != nil {
		f.commandConfig = fl.Value.String()
	}
	secOpts, _, err := f.security()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	found := make(chan []string, 1)
	go func() {
		var names []string
		defer func() { found <- names }()
		if dialAny(ctx, addrs) != nil {
			return
		}
		opts := append([]kgo.Opt{kgo.SeedBrokers(addrs...), kgo.ClientID("spool-cli"), kgo.DialTimeout(completionTimeout)}, secOpts...)
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return
		}
		adm := kadm.NewClient(cl)
		defer adm.Close()
		names, _ = list(ctx, adm)
	}()
	var all []string
	select {
	case all = <-found:
	case <-ctx.Done():
	}
	var out []string
	for _, n := range all {
		if strings.HasPrefix(n, prefix) && !slices.Contains(given, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, cobra.ShellCompDirectiveNoFileComp
}
