package console

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

type aclView struct {
	ResourceType string `json:"resource_type"`
	ResourceName string `json:"resource_name"`
	PatternType  string `json:"pattern_type"`
	Principal    string `json:"principal"`
	Host         string `json:"host"`
	Operation    string `json:"operation"`
	Permission   string `json:"permission"`
}

// acls answers GET /v1/acls: every binding, as DescribeAcls with a
// match-anything filter answers. Enabled is false when the cluster has no
// authorizer (Kafka answers SECURITY_DISABLED).
func (c *Console) acls(ctx context.Context, r *http.Request) (any, error) {
	cl, _, err := c.clients()
	if err != nil {
		return nil, err
	}
	if err := c.mustMay(ctx, r, kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeCluster, "kafka-cluster"); err != nil {
		return nil, err
	}
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType = kmsg.ACLResourceTypeAny
	req.ResourcePatternType = kmsg.ACLResourcePatternTypeAny
	req.Operation = kmsg.ACLOperationAny
	req.PermissionType = kmsg.ACLPermissionTypeAny
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	out := []aclView{}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		if errors.Is(err, kerr.SecurityDisabled) {
			return map[string]any{"enabled": false, "acls": out}, nil
		}
		return nil, err
	}
	for _, r := range resp.Resources {
		for _, a := range r.ACLs {
			out = append(out, aclView{ResourceType: r.ResourceType.String(), ResourceName: r.ResourceName, PatternType: r.ResourcePatternType.String(),
				Principal: a.Principal, Host: a.Host, Operation: a.Operation.String(), Permission: a.PermissionType.String()})
		}
	}
	slices.SortFunc(out, func(a, b aclView) int {
		return cmp.Or(strings.Compare(a.ResourceType, b.ResourceType), strings.Compare(a.ResourceName, b.ResourceName),
			strings.Compare(a.Principal, b.Principal), strings.Compare(a.Operation, b.Operation), strings.Compare(a.Permission, b.Permission))
	})
	return map[string]any{"enabled": true, "acls": out}, nil
}

type quotaView struct {
	Entity map[string]string  `json:"entity"` // type to name; "<default>" is the type's default
	Values map[string]float64 `json:"values"`
}

// quotas answers GET /v1/quotas: the client quotas in the metadata image,
// the records DescribeClientQuotas answers from.
func (c *Console) quotas(ctx context.Context, r *http.Request) (any, error) {
	if err := c.mustMay(ctx, r, kmsg.ACLOperationDescribeConfigs, kmsg.ACLResourceTypeCluster, "kafka-cluster"); err != nil {
		return nil, err
	}
	img := c.image()
	out := []quotaView{}
	for e, vals := range img.Quotas {
		if len(vals) == 0 {
			continue
		}
		q := quotaView{Entity: map[string]string{}, Values: map[string]float64{}}
		for _, part := range []struct {
			typ  string
			name metadata.QuotaName
		}{{"user", e.User}, {"client-id", e.ClientID}, {"ip", e.IP}} {
			switch {
			case part.name.Default:
				q.Entity[part.typ] = "<default>"
			case part.name.Set:
				q.Entity[part.typ] = part.name.Name
			}
		}
		for k, v := range vals {
			q.Values[k] = v
		}
		out = append(out, q)
	}
	slices.SortFunc(out, func(a, b quotaView) int { return strings.Compare(entityKey(a.Entity), entityKey(b.Entity)) })
	return map[string]any{"quotas": out}, nil
}

func entityKey(e map[string]string) string {
	return e["user"] + "\x00" + e["client-id"] + "\x00" + e["ip"]
}
