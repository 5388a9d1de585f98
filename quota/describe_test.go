package quota

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

func comp(typ string, m kmsg.QuotasMatchType, name *string) kmsg.DescribeClientQuotasRequestComponent {
	return kmsg.DescribeClientQuotasRequestComponent{EntityType: typ, MatchType: m, Match: name}
}

func TestDescribeFilters(t *testing.T) {
	n := func(name string) metadata.QuotaName { return metadata.QuotaName{Set: true, Name: name} }
	d := metadata.QuotaName{Set: true, Default: true}
	q := Quotas{
		{User: n("a")}:                   {ProducerByteRate: 1},
		{User: n("a"), ClientID: n("x")}: {ProducerByteRate: 2},
		{User: n("b"), ClientID: d}:      {ProducerByteRate: 3},
		{ClientID: d}:                    {ProducerByteRate: 4},
		{IP: n("10.0.0.1")}:              {ConnectionCreationRate: 5},
	}
	cases := []struct {
		name   string
		strict bool
		comps  []kmsg.DescribeClientQuotasRequestComponent
		want   int
		code   int16
	}{
		{"all", false, nil, 5, 0},
		{"strict-nothing", true, nil, 0, 0},
		{"user-a", false, []kmsg.DescribeClientQuotasRequestComponent{comp("user", kmsg.QuotasMatchTypeExact, s("a"))}, 2, 0},
		{"user-a-strict", true, []kmsg.DescribeClientQuotasRequestComponent{comp("user", kmsg.QuotasMatchTypeExact, s("a"))}, 1, 0},
		{"default-client", false, []kmsg.DescribeClientQuotasRequestComponent{comp("client-id", kmsg.QuotasMatchTypeDefault, nil)}, 2, 0},
		{"any-client", false, []kmsg.DescribeClientQuotasRequestComponent{comp("client-id", kmsg.QuotasMatchTypeAny, nil)}, 3, 0},
		{"any-user-any-client-strict", true, []kmsg.DescribeClientQuotasRequestComponent{comp("user", kmsg.QuotasMatchTypeAny, nil), comp("client-id", kmsg.QuotasMatchTypeAny, nil)}, 2, 0},
		{"ip", true, []kmsg.DescribeClientQuotasRequestComponent{comp("ip", kmsg.QuotasMatchTypeAny, nil)}, 1, 0},
		{"unknown-type", false, []kmsg.DescribeClientQuotasRequestComponent{comp("group", kmsg.QuotasMatchTypeAny, nil)}, 0, kerr.UnsupportedVersion.Code},
		{"twice", false, []kmsg.DescribeClientQuotasRequestComponent{comp("user", kmsg.QuotasMatchTypeAny, nil), comp("user", kmsg.QuotasMatchTypeDefault, nil)}, 0, kerr.InvalidRequest.Code},
		{"ip-user", false, []kmsg.DescribeClientQuotasRequestComponent{comp("ip", kmsg.QuotasMatchTypeAny, nil), comp("user", kmsg.QuotasMatchTypeDefault, nil)}, 0, kerr.InvalidRequest.Code},
		{"exact-nil", false, []kmsg.DescribeClientQuotasRequestComponent{comp("user", kmsg.QuotasMatchTypeExact, nil)}, 0, kerr.InvalidRequest.Code},
	}
	for _, c := range cases {
		req := kmsg.NewPtrDescribeClientQuotasRequest()
		req.Strict, req.Components = c.strict, c.comps
		resp := Describe(q, req)
		if resp.ErrorCode != c.code || len(resp.Entries) != c.want {
			t.Errorf("%s: code %d, %d entries; want %d, %d", c.name, resp.ErrorCode, len(resp.Entries), c.code, c.want)
		}
	}
}
