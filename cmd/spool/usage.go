package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/agnivade/levenshtein"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// strictUsage makes every mistake on the command line a usage error (exit
// 2) with a hint, on cmd and all its subcommands. Cobra on its own prints
// help and exits 0 for `spool topic creat x`, and exits 1 for an unknown
// flag without suggesting the one meant.
func strictUsage(cmd *cobra.Command) {
	cmd.SetFlagErrorFunc(flagError)
	cmd.SuggestionsMinimumDistance = 2
	if cmd.HasSubCommands() && cmd.Run == nil && cmd.RunE == nil {
		cmd.Args = cobra.ArbitraryArgs
		cmd.RunE = unknownSubcommand
	} else if cmd.Args != nil {
		check := cmd.Args
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := check(c, args); err != nil {
				return usageErrorf("%s: %v\n\nUsage: %s\nRun '%s --help' for examples.", subPath(c), err, c.UseLine(), c.CommandPath())
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		strictUsage(sub)
	}
}

// unknownSubcommand runs for a command that only groups others: with no
// arguments it shows help; anything else is a mistyped subcommand.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
	}
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	msg += fmt.Sprintf("\n\nCommands: %s\nRun '%s --help' for usage.", strings.Join(names, ", "), cmd.CommandPath())
	return usageErrorf("%s", msg)
}

// flagError turns pflag's parse errors into usage errors, suggesting the
// flag closest to a mistyped one.
func flagError(cmd *cobra.Command, err error) error {
	msg := fmt.Sprintf("%s: %v", subPath(cmd), err)
	var notExist *pflag.NotExistError
	if errors.As(err, &notExist) {
		if s := suggestFlags(cmd, notExist.GetSpecifiedName()); len(s) > 0 {
			msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
		}
	}
	return usageErrorf("%s\n\nRun '%s --help' for usage.", msg, cmd.CommandPath())
}

// suggestFlags lists the flags of cmd within a small edit distance of name,
// or that name starts, closest first.
func suggestFlags(cmd *cobra.Command, name string) []string {
	if len(name) <= 1 {
		return nil
	}
	type cand struct {
		flag string
		dist int
	}
	var cands []cand
	seen := map[string]bool{}
	visit := func(f *pflag.Flag) {
		if f.Hidden || seen[f.Name] {
			return
		}
		seen[f.Name] = true
		d := levenshtein.ComputeDistance(name, f.Name)
		if d <= 2 || (len(name) >= 3 && strings.HasPrefix(f.Name, name)) {
			cands = append(cands, cand{"--" + f.Name, d})
		}
	}
	cmd.Flags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].dist < cands[j].dist })
	var out []string
	for i, c := range cands {
		if i == 3 {
			break
		}
		out = append(out, c.flag)
	}
	return out
}

// subPath is the command's path without the program name, which the error
// line already starts with ("spool: topic create: ...").
func subPath(cmd *cobra.Command) string {
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}
