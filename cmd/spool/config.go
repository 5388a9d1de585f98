package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func newConfigCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Describe and change topic, broker and group configs at runtime",
		Long: `Describe and change dynamic configs. Changes are stored in the cluster's
metadata, apply at once without a restart, and survive restarts.`,
		Example: `  spool config describe --topic orders
  spool config set --topic orders retention.ms=60000 max.message.bytes=2097152
  spool config delete --topic orders retention.ms
  spool config set --broker-default log.retention.ms=3600000
  spool config set --group orders-app consumer.session.timeout.ms=50000`,
	}
	cmd.AddCommand(newConfigDescribeCmd(a), newConfigSetCmd(a), newConfigDeleteCmd(a))
	return cmd
}

// configTarget is the resource a config command acts on.
type configTarget struct {
	topic         string
	broker        string
	brokerDefault bool
	group         string
}

func (t *configTarget) register(cmd *cobra.Command, a *app) {
	cmd.Flags().StringVar(&t.topic, "topic", "", "the topic")
	_ = cmd.RegisterFlagCompletionFunc("topic", a.completeTopicFlag)
	cmd.Flags().StringVar(&t.broker, "broker", "", "the broker's node id")
	cmd.Flags().BoolVar(&t.brokerDefault, "broker-default", false, "the cluster-wide default of every broker")
	cmd.Flags().StringVar(&t.group, "group", "", "the consumer group (its consumer.* configs)")
}

// resource checks that exactly one target was given.
func (t *configTarget) resource() (kmsg.ConfigResourceType, string, error) {
	n := 0
	for _, set := range []bool{t.topic != "", t.broker != "", t.brokerDefault, t.group != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return 0, "", usageErrorf("name exactly one of --topic T, --broker N, --broker-default or --group G")
	}
	switch {
	case t.topic != "":
		return kmsg.ConfigResourceTypeTopic, t.topic, nil
	case t.group != "":
		return kmsg.ConfigResourceTypeGroupConfig, t.group, nil
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
	case t.group != "":
		return "group " + t.group
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
	var t configTarget
	var all, synonyms bool
	cmd := &cobra.Command{
		Use:   "describe (--topic T | --broker N | --broker-default | --group G) [KEY...]",
		Short: "Show configs that are set (or every config with --all) and where each value comes from",
		Long: `Show a topic's, broker's or group's configs with their source:
DYNAMIC_TOPIC_CONFIG, DYNAMIC_BROKER_CONFIG, DYNAMIC_DEFAULT_BROKER_CONFIG,
STATIC_BROKER_CONFIG, GROUP_CONFIG or DEFAULT_CONFIG. Without --all, configs left
at their default are hidden.`,
		Example: `  spool config describe --topic orders
  spool config describe --topic orders --all
  spool config describe --broker 1 log.retention.ms --synonyms
  spool config describe --broker-default --format json`,
	}
	a.client(cmd, clientCmd{
		check: func([]string) error {
			_, _, err := t.resource()
			return err
		},
		run: func(s *session, keys []string) error {
			out, err := describeConfigs(s, &t, keys, all)
			if err != nil {
				return err
			}
			return show(s, out, func(p *printer) { printConfigs(p, out, synonyms) })
		},
	})
	t.register(cmd, a)
	cmd.Flags().BoolVar(&all, "all", false, "include configs left at their default")
	cmd.Flags().BoolVar(&synonyms, "synonyms", false, "show every layer a value could come from, most specific first")
	return cmd
}

// describeConfigs asks for the target's configs with their synonyms and
// documentation; without all or keys, defaults are left out.
func describeConfigs(s *session, t *configTarget, keys []string, all bool) ([]configEntry, error) {
	typ, name, _ := t.resource()
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
			return nil, fmt.Errorf("broker %s is not in the cluster (see `spool cluster info`)", name)
		}
		return nil, err
	}
	if len(raw.Resources) != 1 {
		return nil, fmt.Errorf("describe configs of %s: the broker answered %d resources", t.describe(), len(raw.Resources))
	}
	res := raw.Resources[0]
	if err := kerr.ErrorForCode(res.ErrorCode); err != nil {
		return nil, fmt.Errorf("%s: %w", t.describe(), kafkaError(err, deref(res.ErrorMessage)))
	}
	out := []configEntry{}
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
	return out, nil
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
