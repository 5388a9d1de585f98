package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func newConfigCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Describe and change topic and broker configs at runtime",
		Long: `Describe and change dynamic configs. Changes are stored in the cluster's
metadata, apply at once without a restart, and survive restarts.`,
		Example: `  spool config describe --topic orders
  spool config set --topic orders retention.ms=60000 max.message.bytes=2097152
  spool config delete --topic orders retention.ms
  spool config set --broker-default log.retention.ms=3600000`,
	}
	cmd.AddCommand(newConfigDescribeCmd(a), newConfigSetCmd(a), newConfigDeleteCmd(a))
	return cmd
}

// configTarget is the resource a config command acts on.
type configTarget struct {
	topic         string
	broker        string
	brokerDefault bool
}

func (t *configTarget) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&t.topic, "topic", "", "the topic")
	cmd.Flags().StringVar(&t.broker, "broker", "", "the broker's node id")
	cmd.Flags().BoolVar(&t.brokerDefault, "broker-default", false, "the cluster-wide default of every broker")
}

// resource checks that exactly one target was given.
func (t *configTarget) resource() (kmsg.ConfigResourceType, string, error) {
	n := 0
	for _, set := range []bool{t.topic != "", t.broker != "", t.brokerDefault} {
		if set {
			n++
		}
	}
	if n != 1 {
		return 0, "", usageErrorf("name exactly one of --topic T, --broker N or --broker-default")
	}
	switch {
	case t.topic != "":
		return kmsg.ConfigResourceTypeTopic, t.topic, nil
	case t.brokerDefault:
		return kmsg.ConfigResourceTypeBroker, "", nil
	}
	if id, err := strconv.ParseInt(t.broker, 10, 32); err != nil || id < 0 {
		return 0, "", usageErrorf("--broker %q: want a node id", t.broker)
	}
	return kmsg.ConfigResourceTypeBroker, t.broker, nil
}

func (t *configTarget) describe() string {
	switch {
	case t.topic != "":
		return "topic " + t.topic
	case t.brokerDefault:
		return "the broker default"
	}
	return "broker " + t.broker
}

type configEntry struct {
	Name          string          `json:"name"`
	Value         *string         `json:"value"`
	Source        string          `json:"source"`
	ReadOnly      bool            `json:"read_only"`
	Sensitive     bool            `json:"sensitive"`
	Type          string          `json:"type"`
	Synonyms      []configSynonym `json:"synonyms,omitempty"`
	Documentation string          `json:"documentation,omitempty"`
}

type configSynonym struct {
	Name   string  `json:"name"`
	Value  *string `json:"value"`
	Source string  `json:"source"`
}

func newConfigDescribeCmd(a *app) *cobra.Command {
	var f clientFlags
	var t configTarget
	var all, synonyms bool
	cmd := &cobra.Command{
		Use:   "describe (--topic T | --broker N | --broker-default) [KEY...]",
		Short: "Show configs that are set (or every config with --all) and where each value comes from",
		Long: `Show a topic's or broker's configs with their source: DYNAMIC_TOPIC_CONFIG,
DYNAMIC_BROKER_CONFIG, DYNAMIC_DEFAULT_BROKER_CONFIG, STATIC_BROKER_CONFIG or
DEFAULT_CONFIG. Without --all, configs left at their default are hidden.`,
		Example: `  spool config describe --topic orders
  spool config describe --topic orders --all
  spool config describe --broker 1 log.retention.ms --synonyms
  spool config describe --broker-default --format json`,
		RunE: func(cmd *cobra.Command, keys []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			typ, name, err := t.resource()
			if err != nil {
				return err
			}
			s, err := a.connect(cmd, &f)
			if err != nil {
				return err
			}
			defer s.close()
			req := kmsg.NewPtrDescribeConfigsRequest()
			rr := kmsg.NewDescribeConfigsRequestResource()
			rr.ResourceType, rr.ResourceName = typ, name
			if len(keys) > 0 {
				rr.ConfigNames = keys
			}
			req.Resources = append(req.Resources, rr)
			req.IncludeSynonyms, req.IncludeDocumentation = true, true
			raw, err := req.RequestWith(s.ctx, s.cl)
			if err != nil {
				if typ == kmsg.ConfigResourceTypeBroker && name != "" && strings.Contains(err.Error(), "unknown broker") {
					return fmt.Errorf("broker %s is not in the cluster (see `spool cluster info`)", name)
				}
				return err
			}
			if len(raw.Resources) != 1 {
				return fmt.Errorf("describe configs of %s: the broker answered %d resources", t.describe(), len(raw.Resources))
			}
			res := raw.Resources[0]
			if err := kerr.ErrorForCode(res.ErrorCode); err != nil {
				return fmt.Errorf("%s: %w", t.describe(), kafkaError(err, deref(res.ErrorMessage)))
			}
			var out []configEntry
			for _, c := range res.Configs {
				if !all && len(keys) == 0 && c.Source == kmsg.ConfigSourceDefaultConfig {
					continue
				}
				e := configEntry{Name: c.Name, Value: c.Value, Source: c.Source.String(), ReadOnly: c.ReadOnly, Sensitive: c.IsSensitive, Type: strings.ToLower(c.ConfigType.String())}
				if c.Documentation != nil {
					e.Documentation = *c.Documentation
				}
				for _, syn := range c.ConfigSynonyms {
					e.Synonyms = append(e.Synonyms, configSynonym{Name: syn.Name, Value: syn.Value, Source: syn.Source.String()})
				}
				out = append(out, e)
			}
			p := a.printer(cmd.OutOrStdout())
			if p.json {
				if out == nil {
					out = []configEntry{}
				}
				return p.emitJSON(out)
			}
			printConfigs(p, out, synonyms)
			return nil
		},
	}
	f.register(cmd)
	t.register(cmd)
	cmd.Flags().BoolVar(&all, "all", false, "include configs left at their default")
	cmd.Flags().BoolVar(&synonyms, "synonyms", false, "show every layer a value could come from, most specific first")
	return cmd
}

func printConfigs(p *printer, entries []configEntry, synonyms bool) {
	var rows [][]string
	for _, e := range entries {
		rows = append(rows, []string{e.Name, configValue(e.Value, e.Sensitive), e.Source, readOnly(e.ReadOnly)})
		if !synonyms {
			continue
		}
		for _, s := range e.Synonyms {
			rows = append(rows, []string{"  " + s.Name, configValue(s.Value, e.Sensitive), s.Source, ""})
		}
	}
	p.table([]string{"NAME", "VALUE", "SOURCE", "READ-ONLY"}, rows)
}

func configValue(v *string, sensitive bool) string {
	switch {
	case sensitive:
		return "(sensitive)"
	case v == nil:
		return "(none)"
	case *v == "":
		return `""`
	}
	return *v
}

func readOnly(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// alterResult is one resource's outcome of config set or delete.
type alterResult struct {
	Resource string            `json:"resource"`
	Changes  map[string]string `json:"changes,omitempty"`
	Deleted  []string          `json:"deleted,omitempty"`
	DryRun   bool              `json:"dry_run,omitempty"`
	Error    string            `json:"error,omitempty"`
}

func newConfigSetCmd(a *app) *cobra.Command {
	var f clientFlags
	var t configTarget
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "set (--topic T | --broker N | --broker-default) KEY=VALUE...",
		Short: "Set configs; KEY+=ITEM appends to a list config and KEY-=ITEM removes from it",
		Example: `  spool config set --topic orders retention.ms=60000 max.message.bytes=2097152
  spool config set --topic orders cleanup.policy+=compact
  spool config set --broker 1 log.cleaner.threads=2
  spool config set --broker-default log.retention.ms=3600000 --dry-run`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var ops []kadm.AlterConfig
			changes := map[string]string{}
			for _, kv := range args {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return usageErrorf("%q: want KEY=VALUE (or KEY+=ITEM, KEY-=ITEM)", kv)
				}
				op := kadm.SetConfig
				switch {
				case strings.HasSuffix(k, "+"):
					op, k = kadm.AppendConfig, strings.TrimSuffix(k, "+")
					changes[k] = "+" + v
				case strings.HasSuffix(k, "-"):
					op, k = kadm.SubtractConfig, strings.TrimSuffix(k, "-")
					changes[k] = "-" + v
				default:
					changes[k] = v
				}
				val := v
				ops = append(ops, kadm.AlterConfig{Op: op, Name: k, Value: &val})
			}
			return a.alterConfigs(cmd, &f, &t, ops, alterResult{Changes: changes, DryRun: dryRun}, dryRun)
		},
	}
	f.register(cmd)
	t.register(cmd)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate only; change nothing")
	return cmd
}

func newConfigDeleteCmd(a *app) *cobra.Command {
	var f clientFlags
	var t configTarget
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "delete (--topic T | --broker N | --broker-default) KEY...",
		Short: "Remove config overrides, so the keys fall back to the broker or default value",
		Example: `  spool config delete --topic orders retention.ms
  spool config delete --broker-default log.retention.ms`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, keys []string) error {
			var ops []kadm.AlterConfig
			for _, k := range keys {
				if strings.Contains(k, "=") {
					return usageErrorf("%q: config delete takes key names only", k)
				}
				ops = append(ops, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
			}
			return a.alterConfigs(cmd, &f, &t, ops, alterResult{Deleted: keys, DryRun: dryRun}, dryRun)
		},
	}
	f.register(cmd)
	t.register(cmd)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate only; change nothing")
	return cmd
}

// alterConfigs sends an IncrementalAlterConfigs for the target and reports.
func (a *app) alterConfigs(cmd *cobra.Command, f *clientFlags, t *configTarget, ops []kadm.AlterConfig, res alterResult, dryRun bool) error {
	if err := a.checkFormat(); err != nil {
		return err
	}
	typ, name, err := t.resource()
	if err != nil {
		return err
	}
	s, err := a.connect(cmd, f)
	if err != nil {
		return err
	}
	defer s.close()
	var resps kadm.AlterConfigsResponses
	switch {
	case typ == kmsg.ConfigResourceTypeTopic && dryRun:
		resps, err = s.adm.ValidateAlterTopicConfigs(s.ctx, ops, name)
	case typ == kmsg.ConfigResourceTypeTopic:
		resps, err = s.adm.AlterTopicConfigs(s.ctx, ops, name)
	default:
		var brokers []int32
		if name != "" {
			id, _ := strconv.ParseInt(name, 10, 32)
			brokers = append(brokers, int32(id))
		}
		if dryRun {
			resps, err = s.adm.ValidateAlterBrokerConfigs(s.ctx, ops, brokers...)
		} else {
			resps, err = s.adm.AlterBrokerConfigs(s.ctx, ops, brokers...)
		}
	}
	if err != nil {
		return err
	}
	res.Resource = t.describe()
	for _, r := range resps {
		if r.Err != nil {
			msg := r.ErrMessage
			res.Error = kafkaError(r.Err, msg).Error()
		}
	}
	p := a.printer(cmd.OutOrStdout())
	if p.json {
		if err := p.emitJSON(res); err != nil {
			return err
		}
	}
	if res.Error != "" {
		if p.json {
			return &exitError{code: 1, msg: fmt.Sprintf("%s: %s", res.Resource, res.Error)}
		}
		return fmt.Errorf("%s: %s", res.Resource, res.Error)
	}
	if p.json {
		return nil
	}
	verb := "Updated"
	if dryRun {
		verb = "Validated (nothing changed)"
	}
	var parts []string
	for _, op := range ops {
		switch op.Op {
		case kadm.SetConfig:
			parts = append(parts, op.Name+"="+*op.Value)
		case kadm.AppendConfig:
			parts = append(parts, op.Name+"+="+*op.Value)
		case kadm.SubtractConfig:
			parts = append(parts, op.Name+"-="+*op.Value)
		case kadm.DeleteConfig:
			parts = append(parts, "deleted "+op.Name)
		}
	}
	fmt.Fprintf(p.w, "%s %s: %s\n", verb, res.Resource, strings.Join(parts, ", "))
	return nil
}
