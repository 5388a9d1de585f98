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

// alterResult is one resource's outcome of config set or delete.
type alterResult struct {
	Resource string            `json:"resource"`
	Changes  map[string]string `json:"changes,omitempty"`
	Deleted  []string          `json:"deleted,omitempty"`
	DryRun   bool              `json:"dry_run,omitempty"`
	Error    string            `json:"error,omitempty"`
}

func (r alterResult) subject() string { return r.Resource }
func (r alterResult) failure() string { return r.Error }

func newConfigSetCmd(a *app) *cobra.Command {
	var t configTarget
	var dryRun bool
	var ops []kadm.AlterConfig
	changes := map[string]string{}
	cmd := &cobra.Command{
		Use:   "set (--topic T | --broker N | --broker-default | --group G) KEY=VALUE...",
		Short: "Set configs; KEY+=ITEM appends to a list config and KEY-=ITEM removes from it",
		Example: `  spool config set --topic orders retention.ms=60000 max.message.bytes=2097152
  spool config set --topic orders cleanup.policy+=compact
  spool config set --broker 1 log.cleaner.threads=2
  spool config set --broker-default log.retention.ms=3600000 --dry-run
  spool config set --group orders-app consumer.heartbeat.interval.ms=6000`,
		Args: cobra.MinimumNArgs(1),
	}
	a.client(cmd, clientCmd{
		check: func(args []string) error {
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
				ops = append(ops, kadm.AlterConfig{Op: op, Name: k, Value: &v})
			}
			_, _, err := t.resource()
			return err
		},
		run: func(s *session, _ []string) error {
			return alterConfigs(s, &t, ops, alterResult{Changes: changes, DryRun: dryRun}, dryRun)
		},
	})
	t.register(cmd, a)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate only; change nothing")
	return cmd
}

func newConfigDeleteCmd(a *app) *cobra.Command {
	var t configTarget
	var dryRun bool
	var ops []kadm.AlterConfig
	cmd := &cobra.Command{
		Use:   "delete (--topic T | --broker N | --broker-default | --group G) KEY...",
		Short: "Remove config overrides, so the keys fall back to the broker or default value",
		Example: `  spool config delete --topic orders retention.ms
  spool config delete --broker-default log.retention.ms`,
		Args: cobra.MinimumNArgs(1),
	}
	a.client(cmd, clientCmd{
		check: func(keys []string) error {
			for _, k := range keys {
				if strings.Contains(k, "=") {
					return usageErrorf("%q: config delete takes key names only", k)
				}
				ops = append(ops, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
			}
			_, _, err := t.resource()
			return err
		},
		run: func(s *session, keys []string) error {
			return alterConfigs(s, &t, ops, alterResult{Deleted: keys, DryRun: dryRun}, dryRun)
		},
	})
	t.register(cmd, a)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate only; change nothing")
	return cmd
}

// alterConfigs sends an IncrementalAlterConfigs for the target and reports.
func alterConfigs(s *session, t *configTarget, ops []kadm.AlterConfig, res alterResult, dryRun bool) error {
	typ, name, _ := t.resource()
	var resps kadm.AlterConfigsResponses
	var err error
	switch {
	case typ == kmsg.ConfigResourceTypeTopic && dryRun:
		resps, err = s.adm.ValidateAlterTopicConfigs(s.ctx, ops, name)
	case typ == kmsg.ConfigResourceTypeTopic:
		resps, err = s.adm.AlterTopicConfigs(s.ctx, ops, name)
	case typ == kmsg.ConfigResourceTypeGroupConfig:
		resps, err = alterGroupConfigs(s, name, ops, dryRun)
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
			res.Error = kafkaError(r.Err, r.ErrMessage).Error()
		}
	}
	if s.out.json {
		return report(s, []alterResult{res}, nil)
	}
	if res.Error != "" {
		return fmt.Errorf("%s: %s", res.Resource, res.Error)
	}
	verb := "Updated"
	if dryRun {
		verb = "Validated (nothing changed)"
	}
	fmt.Fprintf(s.out.w, "%s %s: %s\n", verb, res.Resource, strings.Join(opsText(ops), ", "))
	return nil
}

func opsText(ops []kadm.AlterConfig) []string {
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
	return parts
}

// alterGroupConfigs sends a group's IncrementalAlterConfigs (kadm has no
// helper for group resources).
func alterGroupConfigs(s *session, group string, ops []kadm.AlterConfig, dryRun bool) (kadm.AlterConfigsResponses, error) {
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	req.ValidateOnly = dryRun
	rr := kmsg.NewIncrementalAlterConfigsRequestResource()
	rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeGroupConfig, group
	for _, op := range ops {
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		c.Name, c.Value, c.Op = op.Name, op.Value, kmsg.IncrementalAlterConfigOp(op.Op)
		rr.Configs = append(rr.Configs, c)
	}
	req.Resources = append(req.Resources, rr)
	resp, err := req.RequestWith(s.ctx, s.cl)
	if err != nil {
		return nil, err
	}
	var out kadm.AlterConfigsResponses
	for _, r := range resp.Resources {
		out = append(out, kadm.AlterConfigsResponse{Name: r.ResourceName, Err: kerr.ErrorForCode(r.ErrorCode), ErrMessage: deref(r.ErrorMessage)})
	}
	return out, nil
}
