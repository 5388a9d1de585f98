package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func newFeaturesCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "features",
		Short: "Show and raise the cluster's finalized feature levels (metadata.version, ...)",
		Example: `  spool features describe
  spool features upgrade --feature metadata.version=25`,
	}
	cmd.AddCommand(newFeaturesDescribeCmd(a), newFeaturesUpgradeCmd(a))
	return cmd
}

// featureRow is one feature: the range the broker supports and the level
// the cluster finalized.
type featureRow struct {
	Name      string `json:"name"`
	MinLevel  int16  `json:"supported_min"`
	MaxLevel  int16  `json:"supported_max"`
	Finalized int16  `json:"finalized"`
}

func newFeaturesDescribeCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "describe",
		Short: "List the features a broker supports and the finalized levels",
		Args:  cobra.NoArgs,
	}
	a.client(cmd, clientCmd{run: func(s *session, _ []string) error {
		req := kmsg.NewPtrApiVersionsRequest()
		req.ClientSoftwareName, req.ClientSoftwareVersion = "spool", "1"
		resp, err := req.RequestWith(s.ctx, s.cl)
		if err != nil {
			return err
		}
		if e := kerr.ErrorForCode(resp.ErrorCode); e != nil {
			return e
		}
		var rows []featureRow
		for _, f := range resp.SupportedFeatures {
			r := featureRow{Name: f.Name, MinLevel: f.MinVersion, MaxLevel: f.MaxVersion}
			for _, ff := range resp.FinalizedFeatures {
				if ff.Name == f.Name {
					r.Finalized = ff.MaxVersionLevel
				}
			}
			rows = append(rows, r)
		}
		slices.SortFunc(rows, func(a, b featureRow) int { return strings.Compare(a.Name, b.Name) })
		if s.out.json {
			return s.out.emitJSON(rows)
		}
		var table [][]string
		for _, r := range rows {
			table = append(table, []string{r.Name, fmt.Sprintf("%d-%d", r.MinLevel, r.MaxLevel), strconv.Itoa(int(r.Finalized))})
		}
		s.out.table([]string{"FEATURE", "SUPPORTED", "FINALIZED"}, table)
		return nil
	}})
	return cmd
}

// featureResult is one feature's outcome of upgrade.
type featureResult struct {
	Name  string `json:"name"`
	Level int16  `json:"level"`
	Error string `json:"error,omitempty"`
}

func (r featureResult) subject() string { return r.Name }
func (r featureResult) failure() string { return r.Error }

func newFeaturesUpgradeCmd(a *app) *cobra.Command {
	var features []string
	var dryRun bool
	updates := map[string]int16{}
	cmd := &cobra.Command{
		Use:   "upgrade --feature NAME=LEVEL...",
		Short: "Raise finalized feature levels (every broker and controller must support them)",
		Long: `Finalize higher feature levels, as kafka-features upgrade does. A level
every registered broker and the controllers support is finalized at once;
lowering a level is not offered here, and metadata.version is never
lowered (records written at a level could not be read below it).`,
		Example: `  spool features upgrade --feature metadata.version=25
  spool features upgrade --feature metadata.version=25 --dry-run`,
		Args: cobra.NoArgs,
	}
	a.client(cmd, clientCmd{
		check: func([]string) error {
			if len(features) == 0 {
				return usageErrorf("give at least one --feature NAME=LEVEL")
			}
			for _, f := range features {
				name, lv, ok := strings.Cut(f, "=")
				n, err := strconv.ParseInt(lv, 10, 16)
				if !ok || name == "" || err != nil || n < 0 {
					return usageErrorf("--feature %q: want NAME=LEVEL with a level of 0 or more", f)
				}
				updates[name] = int16(n)
			}
			return nil
		},
		run: func(s *session, _ []string) error {
			req := kmsg.NewPtrUpdateFeaturesRequest()
			req.SetVersion(1)
			req.TimeoutMillis = int32(s.timeout.Milliseconds())
			req.ValidateOnly = dryRun
			for name, level := range updates {
				u := kmsg.NewUpdateFeaturesRequestFeatureUpdate()
				u.Feature, u.MaxVersionLevel, u.UpgradeType = name, level, 1
				req.FeatureUpdates = append(req.FeatureUpdates, u)
			}
			resp, err := req.RequestWith(s.ctx, s.cl)
			if err != nil {
				return err
			}
			if e := kerr.ErrorForCode(resp.ErrorCode); e != nil {
				return kafkaError(e, deref(resp.ErrorMessage))
			}
			var out []featureResult
			if len(resp.Results) == 0 {
				// v2 answers only a top-level error: none means all passed.
				for name, level := range updates {
					out = append(out, featureResult{Name: name, Level: level})
				}
			}
			for _, r := range resp.Results {
				res := featureResult{Name: r.Feature, Level: updates[r.Feature]}
				if e := kerr.ErrorForCode(r.ErrorCode); e != nil {
					res.Error = kafkaError(e, deref(r.ErrorMessage)).Error()
				}
				out = append(out, res)
			}
			slices.SortFunc(out, func(a, b featureResult) int { return strings.Compare(a.Name, b.Name) })
			return report(s, out, func(r featureResult) string {
				if dryRun {
					return fmt.Sprintf("%s can be finalized at %d.", r.Name, r.Level)
				}
				return fmt.Sprintf("%s is finalized at %d.", r.Name, r.Level)
			})
		},
	})
	cmd.Flags().StringSliceVar(&features, "feature", nil, "NAME=LEVEL to finalize (repeatable)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only check that the levels can be finalized")
	return cmd
}
