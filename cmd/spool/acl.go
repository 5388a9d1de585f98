package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// newACLCmd manages ACL bindings (CreateAcls, DescribeAcls, DeleteAcls),
// with kafka-acls' flag names.
func newACLCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "acl", Short: "Manage ACLs (needs authorizer.class.name on the cluster)"}
	cmd.AddCommand(newACLAddCmd(a), newACLListCmd(a), newACLRemoveCmd(a))
	return cmd
}

// aclFlags are the resource and entry flags add, list and remove share.
type aclFlags struct {
	topic, group, txnID     string
	cluster                 bool
	pattern                 string
	allow, deny, hosts, ops []string
	principal               string
}

func (f *aclFlags) register(cmd *cobra.Command, filter bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.topic, "topic", "", "topic name (or prefix, or * for all)")
	fl.StringVar(&f.group, "group", "", "consumer group name (or prefix, or *)")
	fl.StringVar(&f.txnID, "transactional-id", "", "transactional id (or prefix, or *)")
	fl.BoolVar(&f.cluster, "cluster", false, "the cluster resource")
	def := "literal"
	if filter {
		def = "any"
		fl.StringVar(&f.principal, "principal", "", "only bindings of this principal (User:alice)")
	} else {
		fl.StringSliceVar(&f.allow, "allow-principal", nil, "principal to allow (User:alice); repeatable")
		fl.StringSliceVar(&f.deny, "deny-principal", nil, "principal to deny; repeatable")
		fl.StringSliceVar(&f.hosts, "host", []string{"*"}, "client IP address the binding applies to")
	}
	fl.StringVar(&f.pattern, "resource-pattern-type", def, "literal or prefixed (filters: also any, match)")
	fl.StringSliceVar(&f.ops, "operation", nil, "read, write, create, delete, alter, describe, cluster_action, describe_configs, alter_configs, idempotent_write, all")
}

// resource is the one resource the flags name; none with filter means any.
func (f *aclFlags) resource(filter bool) (kmsg.ACLResourceType, *string, error) {
	var rt []kmsg.ACLResourceType
	var name *string
	add := func(t kmsg.ACLResourceType, n string) {
		rt = append(rt, t)
		name = &n
	}
	if f.topic != "" {
		add(kmsg.ACLResourceTypeTopic, f.topic)
	}
	if f.group != "" {
		add(kmsg.ACLResourceTypeGroup, f.group)
	}
	if f.txnID != "" {
		add(kmsg.ACLResourceTypeTransactionalId, f.txnID)
	}
	if f.cluster {
		add(kmsg.ACLResourceTypeCluster, "kafka-cluster")
	}
	switch {
	case len(rt) > 1:
		return 0, nil, usageErrorf("name one resource: --topic, --group, --transactional-id or --cluster")
	case len(rt) == 0 && filter:
		return kmsg.ACLResourceTypeAny, nil, nil
	case len(rt) == 0:
		return 0, nil, usageErrorf("name a resource: --topic, --group, --transactional-id or --cluster")
	}
	return rt[0], name, nil
}

func parsePattern(s string, filter bool) (kmsg.ACLResourcePatternType, error) {
	p, err := kmsg.ParseACLResourcePatternType(strings.ToLower(s))
	ok := p == kmsg.ACLResourcePatternTypeLiteral || p == kmsg.ACLResourcePatternTypePrefixed ||
		(filter && (p == kmsg.ACLResourcePatternTypeAny || p == kmsg.ACLResourcePatternTypeMatch))
	if err != nil || !ok {
		return 0, usageErrorf("--resource-pattern-type %q: want literal or prefixed (or any, match to filter)", s)
	}
	return p, nil
}

func parseOps(names []string, filter bool) ([]kmsg.ACLOperation, error) {
	if len(names) == 0 {
		if filter {
			return []kmsg.ACLOperation{kmsg.ACLOperationAny}, nil
		}
		return nil, usageErrorf("name at least one --operation")
	}
	var out []kmsg.ACLOperation
	for _, n := range names {
		op, err := kmsg.ParseACLOperation(strings.ToLower(strings.ReplaceAll(n, "-", "_")))
		if err != nil || op <= kmsg.ACLOperationAny {
			return nil, usageErrorf("--operation %q is not an ACL operation", n)
		}
		out = append(out, op)
	}
	return out, nil
}

type aclEntry struct {
	Principal    string `json:"principal"`
	Host         string `json:"host"`
	Operation    string `json:"operation"`
	Permission   string `json:"permission"`
	ResourceType string `json:"resource_type"`
	ResourceName string `json:"resource_name"`
	PatternType  string `json:"pattern_type"`
	Error        string `json:"error,omitempty"`
}

func (e aclEntry) subject() string {
	return fmt.Sprintf("%s %s %s on %s %s", e.Permission, e.Principal, e.Operation, e.ResourceType, e.ResourceName)
}
func (e aclEntry) failure() string { return e.Error }

func aclRows(entries []aclEntry) [][]string {
	rows := [][]string{}
	for _, e := range entries {
		rows = append(rows, []string{e.Principal, e.Host, e.Operation, e.Permission, e.ResourceType, e.ResourceName, e.PatternType})
	}
	return rows
}

var aclHeader = []string{"PRINCIPAL", "HOST", "OPERATION", "PERMISSION", "RESOURCE", "NAME", "PATTERN"}

func aclTypeName(s kmsg.ACLResourceType) string { return strings.ToLower(s.String()) }

func newACLAddCmd(a *app) *cobra.Command {
	var f aclFlags
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Add ACL bindings",
		Example: `  spool acl add --allow-principal User:alice --operation read --operation write --topic orders
  spool acl add --allow-principal User:alice --operation read --group app- --resource-pattern-type prefixed
  spool acl add --deny-principal User:bob --operation all --topic '*'`,
		Args: cobra.NoArgs,
	}
	f.register(cmd, false)
	var req *kmsg.CreateACLsRequest
	var entries []aclEntry
	a.client(cmd, clientCmd{
		check: func([]string) error {
			rt, rname, err := f.resource(false)
			if err != nil {
				return err
			}
			pt, err := parsePattern(f.pattern, false)
			if err != nil {
				return err
			}
			ops, err := parseOps(f.ops, false)
			if err != nil {
				return err
			}
			if len(f.allow)+len(f.deny) == 0 {
				return usageErrorf("name a principal: --allow-principal or --deny-principal")
			}
			req = kmsg.NewPtrCreateACLsRequest()
			for _, perm := range []struct {
				list []string
				p    kmsg.ACLPermissionType
			}{{f.allow, kmsg.ACLPermissionTypeAllow}, {f.deny, kmsg.ACLPermissionTypeDeny}} {
				for _, pr := range perm.list {
					if !strings.Contains(pr, ":") {
						return usageErrorf("principal %q: want Type:name, such as User:%s", pr, pr)
					}
					for _, h := range f.hosts {
						for _, op := range ops {
							c := kmsg.NewCreateACLsRequestCreation()
							c.ResourceType, c.ResourceName, c.ResourcePatternType = rt, *rname, pt
							c.Principal, c.Host, c.Operation, c.PermissionType = pr, h, op, perm.p
							req.Creations = append(req.Creations, c)
							entries = append(entries, aclEntry{Principal: pr, Host: h, Operation: strings.ToLower(op.String()),
								Permission: strings.ToLower(perm.p.String()), ResourceType: aclTypeName(rt), ResourceName: *rname, PatternType: strings.ToLower(pt.String())})
						}
					}
				}
			}
			return nil
		},
		run: func(s *session, _ []string) error {
			resp, err := req.RequestWith(s.ctx, s.cl)
			if err != nil {
				return err
			}
			for i, r := range resp.Results {
				if i < len(entries) && r.ErrorCode != 0 {
					msg := ""
					if r.ErrorMessage != nil {
						msg = *r.ErrorMessage
					}
					entries[i].Error = kafkaError(kerr.ErrorForCode(r.ErrorCode), msg).Error()
				}
			}
			return report(s, entries, func(e aclEntry) string { return "Added: " + e.subject() })
		},
	})
	return cmd
}

// filter is the DescribeAcls/DeleteAcls filter the flags describe.
func (f *aclFlags) filter() (kmsg.DeleteACLsRequestFilter, error) {
	fl := kmsg.NewDeleteACLsRequestFilter()
	rt, rname, err := f.resource(true)
	if err != nil {
		return fl, err
	}
	pt, err := parsePattern(f.pattern, true)
	if err != nil {
		return fl, err
	}
	ops, err := parseOps(f.ops, true)
	if err != nil {
		return fl, err
	}
	if len(ops) > 1 {
		return fl, usageErrorf("a filter takes one --operation")
	}
	fl.ResourceType, fl.ResourceName, fl.ResourcePatternType = rt, rname, pt
	fl.Operation, fl.PermissionType = ops[0], kmsg.ACLPermissionTypeAny
	if f.principal != "" {
		fl.Principal = &f.principal
	}
	return fl, nil
}

func newACLListCmd(a *app) *cobra.Command {
	var f aclFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List ACL bindings, all or those matching the flags",
		Example: `  spool acl list
  spool acl list --topic orders --resource-pattern-type match
  spool acl list --principal User:alice --format json`,
		Args: cobra.NoArgs,
	}
	f.register(cmd, true)
	var fl kmsg.DeleteACLsRequestFilter
	a.client(cmd, clientCmd{
		check: func([]string) (err error) { fl, err = f.filter(); return err },
		run: func(s *session, _ []string) error {
			req := kmsg.NewPtrDescribeACLsRequest()
			req.ResourceType, req.ResourceName, req.ResourcePatternType = fl.ResourceType, fl.ResourceName, fl.ResourcePatternType
			req.Principal, req.Host, req.Operation, req.PermissionType = fl.Principal, fl.Host, fl.Operation, fl.PermissionType
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
			entries := []aclEntry{}
			for _, r := range resp.Resources {
				for _, e := range r.ACLs {
					entries = append(entries, aclEntry{Principal: e.Principal, Host: e.Host, Operation: strings.ToLower(e.Operation.String()),
						Permission: strings.ToLower(e.PermissionType.String()), ResourceType: aclTypeName(r.ResourceType), ResourceName: r.ResourceName,
						PatternType: strings.ToLower(r.ResourcePatternType.String())})
				}
			}
			return show(s, entries, func(p *printer) { p.table(aclHeader, aclRows(entries)) })
		},
	})
	return cmd
}

func newACLRemoveCmd(a *app) *cobra.Command {
	var f aclFlags
	cmd := &cobra.Command{
		Use:   "remove",
		Short: "Remove the ACL bindings matching the flags (a resource is required)",
		Example: `  spool acl remove --topic orders --principal User:alice --operation read
  spool acl remove --group app- --resource-pattern-type prefixed`,
		Args: cobra.NoArgs,
	}
	f.register(cmd, true)
	var fl kmsg.DeleteACLsRequestFilter
	a.client(cmd, clientCmd{
		check: func([]string) (err error) {
			if fl, err = f.filter(); err == nil && fl.ResourceType == kmsg.ACLResourceTypeAny {
				err = usageErrorf("name the resource whose bindings to remove: --topic, --group, --transactional-id or --cluster")
			}
			return err
		},
		run: func(s *session, _ []string) error {
			req := kmsg.NewPtrDeleteACLsRequest()
			req.Filters = append(req.Filters, fl)
			resp, err := req.RequestWith(s.ctx, s.cl)
			if err != nil {
				return err
			}
			entries := []aclEntry{}
			for _, r := range resp.Results {
				if r.ErrorCode != 0 {
					msg := ""
					if r.ErrorMessage != nil {
						msg = *r.ErrorMessage
					}
					return kafkaError(kerr.ErrorForCode(r.ErrorCode), msg)
				}
				for _, m := range r.MatchingACLs {
					entries = append(entries, aclEntry{Principal: m.Principal, Host: m.Host, Operation: strings.ToLower(m.Operation.String()),
						Permission: strings.ToLower(m.PermissionType.String()), ResourceType: aclTypeName(m.ResourceType), ResourceName: m.ResourceName,
						PatternType: strings.ToLower(m.ResourcePatternType.String())})
				}
			}
			return report(s, entries, func(e aclEntry) string { return "Removed: " + e.subject() })
		},
	})
	return cmd
}
