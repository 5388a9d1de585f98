package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// newQuotaCmd manages client quotas (AlterClientQuotas,
// DescribeClientQuotas), with kafka-configs' key names.
func newQuotaCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "quota", Short: "Manage client quotas (producer_byte_rate, consumer_byte_rate, request_percentage, ...)"}
	cmd.AddCommand(newQuotaAlterCmd(a), newQuotaDescribeCmd(a))
	return cmd
}

// quotaEntityFlags name an entity: a user, a client id, both, or an IP,
// each a name or the type's default.
type quotaEntityFlags struct {
	user, client, ip                      string
	userDefault, clientDefault, ipDefault bool
}

func (f *quotaEntityFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.user, "user", "", "user principal name (alice for User:alice)")
	fl.StringVar(&f.client, "client-id", "", "client id")
	fl.StringVar(&f.ip, "ip", "", "client IP address (or host name)")
	fl.BoolVar(&f.userDefault, "user-default", false, "the default user entity")
	fl.BoolVar(&f.clientDefault, "client-id-default", false, "the default client-id entity")
	fl.BoolVar(&f.ipDefault, "ip-default", false, "the default ip entity")
}

// parts returns the entity parts the flags name, in Kafka's type order.
func (f *quotaEntityFlags) parts(cmd *cobra.Command) ([]quotaPart, error) {
	var out []quotaPart
	add := func(typ, flag, name string, dflt bool) error {
		set := cmd.Flags().Changed(flag)
		switch {
		case set && dflt:
			return usageErrorf("--%s and --%s-default name different entities: give one", flag, flag)
		case set && name == "":
			return usageErrorf("--%s is empty (the default entity is --%s-default)", flag, flag)
		case set:
			n := name
			out = append(out, quotaPart{Type: typ, Name: &n})
		case dflt:
			out = append(out, quotaPart{Type: typ})
		}
		return nil
	}
	for _, p := range []struct {
		typ, flag, name string
		dflt            bool
	}{{"user", "user", f.user, f.userDefault}, {"client-id", "client-id", f.client, f.clientDefault}, {"ip", "ip", f.ip, f.ipDefault}} {
		if err := add(p.typ, p.flag, p.name, p.dflt); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// quotaPart is one entity type and name; a nil name is the default.
type quotaPart struct {
	Type string
	Name *string
}

func entityString(parts []quotaPart) string {
	var s []string
	for _, p := range parts {
		name := "<default>"
		if p.Name != nil {
			name = *p.Name
		}
		s = append(s, p.Type+"="+name)
	}
	return strings.Join(s, ",")
}

// entityJSON is an entity as JSON: type -> name, null for the default.
func entityJSON(parts []quotaPart) map[string]*string {
	m := map[string]*string{}
	for _, p := range parts {
		m[p.Type] = p.Name
	}
	return m
}

type quotaChange struct {
	Entity map[string]*string `json:"entity"`
	Key    string             `json:"key"`
	Value  *float64           `json:"value"` // null for a removal
	Error  string             `json:"error,omitempty"`
	label  string
}

func (c quotaChange) subject() string { return fmt.Sprintf("quota %s of %s", c.Key, c.label) }
func (c quotaChange) failure() string { return c.Error }

// quotaOps parses --add-config k=v and --delete-config k.
func quotaOps(add, del []string) ([]kmsg.AlterClientQuotasRequestEntryOp, error) {
	var ops []kmsg.AlterClientQuotasRequestEntryOp
	for _, kv := range add {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if !ok || k == "" || err != nil {
			return nil, usageErrorf("--add-config %q: want key=number, such as producer_byte_rate=1048576", kv)
		}
		ops = append(ops, kmsg.AlterClientQuotasRequestEntryOp{Key: k, Value: f})
	}
	for _, k := range del {
		if k = strings.TrimSpace(k); k == "" {
			return nil, usageErrorf("--delete-config is empty")
		}
		ops = append(ops, kmsg.AlterClientQuotasRequestEntryOp{Key: k, Remove: true})
	}
	if len(ops) == 0 {
		return nil, usageErrorf("nothing to change: give --add-config key=value or --delete-config key")
	}
	return ops, nil
}

// quotaAlterRequest is the AlterClientQuotas for one entity's ops, with
// the changes it reports.
func quotaAlterRequest(parts []quotaPart, ops []kmsg.AlterClientQuotasRequestEntryOp, validateOnly bool) (*kmsg.AlterClientQuotasRequest, []quotaChange) {
	req := kmsg.NewPtrAlterClientQuotasRequest()
	req.ValidateOnly = validateOnly
	e := kmsg.NewAlterClientQuotasRequestEntry()
	for _, p := range parts {
		e.Entity = append(e.Entity, kmsg.AlterClientQuotasRequestEntryEntity{Type: p.Type, Name: p.Name})
	}
	e.Ops = ops
	req.Entries = append(req.Entries, e)
	var changes []quotaChange
	for _, op := range ops {
		c := quotaChange{Entity: entityJSON(parts), Key: op.Key, label: entityString(parts)}
		if !op.Remove {
			v := op.Value
			c.Value = &v
		}
		changes = append(changes, c)
	}
	return req, changes
}

// failQuotaChanges marks every change failed: the entity's ops succeed or
// fail together.
func failQuotaChanges(changes []quotaChange, code int16, message *string) {
	msg := ""
	if message != nil {
		msg = *message
	}
	for i := range changes {
		changes[i].Error = kafkaError(kerr.ErrorForCode(code), msg).Error()
	}
}

func newQuotaAlterCmd(a *app) *cobra.Command {
	var f quotaEntityFlags
	var add, del []string
	var validateOnly bool
	cmd := &cobra.Command{
		Use:   "alter",
		Short: "Set or remove quotas of one entity",
		Example: `  spool quota alter --user alice --add-config producer_byte_rate=1048576,consumer_byte_rate=2097152
  spool quota alter --user alice --client-id app --add-config request_percentage=50
  spool quota alter --client-id-default --delete-config producer_byte_rate
  spool quota alter --ip 10.0.0.7 --add-config connection_creation_rate=20`,
		Args: cobra.NoArgs,
	}
	f.register(cmd)
	cmd.Flags().StringSliceVar(&add, "add-config", nil, "key=value quotas to set (comma-separated or repeated)")
	cmd.Flags().StringSliceVar(&del, "delete-config", nil, "quota keys to remove (comma-separated or repeated)")
	cmd.Flags().BoolVar(&validateOnly, "validate-only", false, "check the change without making it")
	var req *kmsg.AlterClientQuotasRequest
	var changes []quotaChange
	a.client(cmd, clientCmd{
		check: func([]string) error {
			parts, err := f.parts(cmd)
			if err != nil {
				return err
			}
			if len(parts) == 0 {
				return usageErrorf("name an entity: --user, --client-id, --ip or their -default forms")
			}
			ops, err := quotaOps(add, del)
			if err != nil {
				return err
			}
			req, changes = quotaAlterRequest(parts, ops, validateOnly)
			return nil
		},
		run: func(s *session, _ []string) error {
			resp, err := req.RequestWith(s.ctx, s.cl)
			if err != nil {
				return err
			}
			for _, e := range resp.Entries {
				if e.ErrorCode != 0 {
					failQuotaChanges(changes, e.ErrorCode, e.ErrorMessage)
				}
			}
			verb := "Set"
			if validateOnly {
				verb = "Valid"
			}
			return report(s, changes, func(c quotaChange) string {
				if c.Value == nil {
					return fmt.Sprintf("Removed: %s of %s", c.Key, c.label)
				}
				return fmt.Sprintf("%s: %s=%s for %s", verb, c.Key, strconv.FormatFloat(*c.Value, 'f', -1, 64), c.label)
			})
		},
	})
	return cmd
}

type quotaDescribed struct {
	Entity map[string]*string `json:"entity"`
	Values map[string]float64 `json:"values"`
	label  string
}

func newQuotaDescribeCmd(a *app) *cobra.Command {
	var f quotaEntityFlags
	var strict bool
	cmd := &cobra.Command{
		Use:   "describe",
		Short: "Show client quotas: all, or those of the entities the flags match",
		Example: `  spool quota describe
  spool quota describe --user alice              # alice's quotas, with or without a client id
  spool quota describe --user alice --strict     # only the entity user=alice
  spool quota describe --client-id-default --format json`,
		Args: cobra.NoArgs,
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&strict, "strict", false, "only entities with exactly the named types")
	req := kmsg.NewPtrDescribeClientQuotasRequest()
	a.client(cmd, clientCmd{
		check: func([]string) error {
			parts, err := f.parts(cmd)
			if err != nil {
				return err
			}
			req.Strict = strict
			for _, p := range parts {
				c := kmsg.NewDescribeClientQuotasRequestComponent()
				c.EntityType, c.Match, c.MatchType = p.Type, p.Name, kmsg.QuotasMatchTypeExact
				if p.Name == nil {
					c.MatchType = kmsg.QuotasMatchTypeDefault
				}
				req.Components = append(req.Components, c)
			}
			return nil
		},
		run: func(s *session, _ []string) error {
			resp, err := req.RequestWith(s.ctx, s.cl)
			if err != nil {
				return err
			}
			if resp.ErrorCode != 0 {
				msg := ""
				if resp.ErrorMessage != nil {
					msg = *resp.ErrorMessage
				}
				return kafkaError(kerr.ErrorForCode(resp.ErrorCode), msg)
			}
			out := []quotaDescribed{}
			for _, e := range resp.Entries {
				var parts []quotaPart
				for _, p := range e.Entity {
					parts = append(parts, quotaPart{Type: p.Type, Name: p.Name})
				}
				d := quotaDescribed{Entity: entityJSON(parts), Values: map[string]float64{}, label: entityString(parts)}
				for _, v := range e.Values {
					d.Values[v.Key] = v.Value
				}
				out = append(out, d)
			}
			sort.Slice(out, func(i, j int) bool { return out[i].label < out[j].label })
			return show(s, out, func(p *printer) {
				rows := [][]string{}
				for _, d := range out {
					keys := make([]string, 0, len(d.Values))
					for k := range d.Values {
						keys = append(keys, k)
					}
					sort.Strings(keys)
					for _, k := range keys {
						rows = append(rows, []string{d.label, k, strconv.FormatFloat(d.Values[k], 'f', -1, 64)})
					}
				}
				p.table([]string{"ENTITY", "KEY", "VALUE"}, rows)
			})
		},
	})
	return cmd
}
