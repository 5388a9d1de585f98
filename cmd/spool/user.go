package main

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// newUserCmd manages SCRAM users (DescribeUserScramCredentials and
// AlterUserScramCredentials, KIP-554), as kafka-configs --entity-type users
// does.
func newUserCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage SCRAM users (SASL/SCRAM credentials)"}
	cmd.AddCommand(newUserListCmd(a), newUserSetCmd(a), newUserDeleteCmd(a))
	return cmd
}

type userEntry struct {
	User       string `json:"user"`
	Mechanism  string `json:"mechanism,omitempty"`
	Iterations int32  `json:"iterations,omitempty"`
	Error      string `json:"error,omitempty"`
}

func (e userEntry) subject() string { return "user " + e.User }
func (e userEntry) failure() string { return e.Error }

func newUserListCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "list [USER...]",
		Short:   "List users with SCRAM credentials: mechanisms and iterations, never keys",
		Example: "  spool user list\n  spool user list alice --format json",
	}
	return a.client(cmd, clientCmd{run: func(s *session, args []string) error {
		described, err := s.adm.DescribeUserSCRAMs(s.ctx, args...)
		if err != nil {
			return err
		}
		out := []userEntry{}
		for _, d := range described.Sorted() {
			if d.Err != nil {
				out = append(out, userEntry{User: d.User, Error: kafkaError(d.Err, d.ErrMessage).Error()})
				continue
			}
			for _, ci := range d.CredInfos {
				out = append(out, userEntry{User: d.User, Mechanism: ci.Mechanism.String(), Iterations: ci.Iterations})
			}
		}
		if s.out.json {
			return report(s, out, nil)
		}
		rows := [][]string{}
		var failed []userEntry
		for _, e := range out {
			if e.Error != "" {
				failed = append(failed, e)
				continue
			}
			rows = append(rows, []string{e.User, e.Mechanism, iterString(e.Iterations)})
		}
		s.out.table([]string{"USER", "MECHANISM", "ITERATIONS"}, rows)
		return report(s, failed, nil)
	}})
}

func iterString(n int32) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}

func scramMechanism(name string) (kadm.ScramMechanism, error) {
	switch strings.ToUpper(name) {
	case "SCRAM-SHA-256":
		return kadm.ScramSha256, nil
	case "SCRAM-SHA-512":
		return kadm.ScramSha512, nil
	}
	return 0, usageErrorf("--mechanism %q: want SCRAM-SHA-256 or SCRAM-SHA-512", name)
}

func newUserSetCmd(a *app) *cobra.Command {
	var mech, password string
	var iterations int32
	var m kadm.ScramMechanism
	cmd := &cobra.Command{
		Use:   "set USER",
		Short: "Create a SCRAM user or change its password (read from stdin unless --password is given)",
		Example: `  echo 'alice-secret' | spool user set alice --mechanism SCRAM-SHA-512
  spool user set alice --mechanism SCRAM-SHA-256 --iterations 8192 --password alice-secret`,
		Args: cobra.ExactArgs(1),
	}
	a.client(cmd, clientCmd{
		check: func([]string) error {
			var err error
			if m, err = scramMechanism(mech); err != nil {
				return err
			}
			if password == "" {
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				password = strings.TrimRight(line, "\r\n")
				if password == "" {
					return usageErrorf("no password: pass --password or write it to stdin (%v)", err)
				}
			}
			return nil
		},
		run: func(s *session, args []string) error {
			res, err := s.adm.AlterUserSCRAMs(s.ctx, nil, []kadm.UpsertSCRAM{{User: args[0], Mechanism: m, Iterations: iterations, Password: password}})
			if err != nil {
				return err
			}
			if r := res[args[0]]; r.Err != nil {
				return fmt.Errorf("user %s: %w", args[0], kafkaError(r.Err, r.ErrMessage))
			}
			fmt.Fprintf(s.out.w, "Set %s credentials for user %s.\n", m, args[0])
			return nil
		},
	})
	cmd.Flags().StringVar(&mech, "mechanism", "SCRAM-SHA-512", "SCRAM-SHA-256 or SCRAM-SHA-512")
	cmd.Flags().Int32Var(&iterations, "iterations", 4096, "PBKDF2 iterations (4096 to 16384)")
	cmd.Flags().StringVar(&password, "password", "", "the password (visible to other local users in the process list; prefer stdin)")
	return cmd
}

func newUserDeleteCmd(a *app) *cobra.Command {
	var mech string
	var m kadm.ScramMechanism
	cmd := &cobra.Command{
		Use:     "delete USER",
		Short:   "Delete a user's SCRAM credential for one mechanism",
		Example: "  spool user delete alice --mechanism SCRAM-SHA-512",
		Args:    cobra.ExactArgs(1),
	}
	a.client(cmd, clientCmd{
		check: func([]string) error {
			var err error
			m, err = scramMechanism(mech)
			return err
		},
		run: func(s *session, args []string) error {
			res, err := s.adm.AlterUserSCRAMs(s.ctx, []kadm.DeleteSCRAM{{User: args[0], Mechanism: m}}, nil)
			if err != nil {
				return err
			}
			if r := res[args[0]]; r.Err != nil {
				return fmt.Errorf("user %s: %w", args[0], kafkaError(r.Err, r.ErrMessage))
			}
			fmt.Fprintf(s.out.w, "Deleted %s credentials of user %s.\n", m, args[0])
			return nil
		},
	})
	cmd.Flags().StringVar(&mech, "mechanism", "SCRAM-SHA-512", "SCRAM-SHA-256 or SCRAM-SHA-512")
	return cmd
}
