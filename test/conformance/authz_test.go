package conformance

import (
	"context"
	"fmt"
	"net"
	"os"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"spool/test/harness"
	"spool/test/peers/kafkapeer"
)

// Both servers run the StandardAuthorizer with
// allow.everyone.if.no.acl.found, so the nodes (User:ANONYMOUS on
// PLAINTEXT listeners) need no bindings of their own. "alice" is
// User:ANONYMOUS connecting from 127.0.0.2: every binding of the matrix
// names that host, and "User:other" bindings make resources alice must
// not reach have ACLs at all.
var authzProps = map[string]string{
	"authorizer.class.name":          "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
	"allow.everyone.if.no.acl.found": "true",
	"auto.create.topics.enable":      "true",
}

const aliceHost = "127.0.0.2"

func authzClient(t *testing.T, addr, host string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	d := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(host)}}
	opts = append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.Dialer(d.DialContext), kgo.MaxVersions(kversion.V3_9_0()), kgo.RequestRetries(0), kgo.RetryTimeout(10 * time.Second)}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// authzSetup creates the topics and alice's bindings.
func authzSetup(t *testing.T, ctx context.Context, addr string) {
	adm := kadm.NewClient(authzClient(t, addr, "127.0.0.1"))
	if _, err := adm.CreateTopics(ctx, 1, 1, nil, "r", "w", "d", "n", "pre-a", "pre-deny"); err != nil {
		t.Fatal(err)
	}
	lit := func() *kadm.ACLBuilder {
		return kadm.NewACLs().Allow("User:ANONYMOUS").AllowHosts(aliceHost).ResourcePatternType(kadm.ACLPatternLiteral)
	}
	other := func() *kadm.ACLBuilder {
		return kadm.NewACLs().Allow("User:other").AllowHosts("*").ResourcePatternType(kadm.ACLPatternLiteral).Operations(kadm.OpAll)
	}
	for _, b := range []*kadm.ACLBuilder{
		lit().Topics("r").Operations(kadm.OpRead),
		lit().Topics("w").Operations(kadm.OpWrite),
		lit().Topics("d").Operations(kadm.OpDescribe),
		lit().Groups("g").Operations(kadm.OpRead),
		lit().TransactionalIDs("tx").Operations(kadm.OpWrite),
		kadm.NewACLs().Allow("User:ANONYMOUS").AllowHosts(aliceHost).ResourcePatternType(kadm.ACLPatternPrefixed).Topics("pre-").Operations(kadm.OpAll),
		kadm.NewACLs().Deny("User:ANONYMOUS").DenyHosts(aliceHost).ResourcePatternType(kadm.ACLPatternLiteral).Topics("pre-deny").Operations(kadm.OpWrite),
		other().Topics("n", "missing-x", "new"), other().Groups("h"), other().TransactionalIDs("ty"),
	} {
		res, err := adm.CreateACLs(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				t.Fatalf("create ACL on %s: %v", addr, r.Err)
			}
		}
	}
}

// authzSettle waits until addr's broker sees every binding and topic of
// the setup: Kafka's brokers apply metadata after the controller answers.
func authzSettle(t *testing.T, ctx context.Context, addr string) {
	adm := kadm.NewClient(authzClient(t, addr, "127.0.0.1"))
	for {
		acls, err := adm.DescribeACLs(ctx, kadm.NewACLs().AnyResource().ResourcePatternType(kadm.ACLPatternAny).Operations(kadm.OpAny).Allow().AllowHosts().Deny().DenyHosts())
		count := 0
		for _, r := range acls {
			count += len(r.Described)
		}
		topics, terr := kadm.NewClient(authzClient(t, addr, aliceHost)).ListTopics(ctx)
		if err == nil && terr == nil && count >= 12 && len(topics) == 5 {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("%s never showed the setup: %d bindings, topics %v, %v %v", addr, count, topics.Names(), err, terr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// authzMatrix sends alice's requests and returns what each answered: its
// error codes, or the visible topic names, or authorized operations.
func authzMatrix(t *testing.T, ctx context.Context, addr string) map[string]any {
	cl := authzClient(t, addr, aliceHost)
	// Kafka 4's APIs (ListConfigResources, DescribeTopicPartitions) need
	// a client that knows them.
	latest := authzClient(t, addr, aliceHost, kgo.MaxVersions(kversion.Stable()))
	out := map[string]any{}
	send := func(name string, req kmsg.Request, pick func(kmsg.Response) any) {
		cl := cl
		if req.Key() == 74 || req.Key() == 75 {
			cl = latest
		}
		for try := 0; ; try++ {
			resp, err := cl.Request(ctx, req)
			if err != nil {
				out[name] = "error: " + err.Error()
				return
			}
			out[name] = pick(resp)
			// A coordinator still loading is not an answer to compare.
			if c, ok := out[name].(int16); !ok || (c != 14 && c != 15 && c != 16) || try == 50 {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	for _, topic := range []string{"w", "r", "n", "pre-a", "pre-deny"} {
		req := kmsg.NewPtrProduceRequest()
		req.Version, req.Acks, req.TimeoutMillis = 9, 1, 5000
		pt := kmsg.NewProduceRequestTopic()
		pt.Topic = topic
		pp := kmsg.NewProduceRequestTopicPartition()
		pp.Records = batch{}.bytes()
		pt.Partitions = append(pt.Partitions, pp)
		req.Topics = append(req.Topics, pt)
		send("produce "+topic, req, func(r kmsg.Response) any { return r.(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode })
	}
	for _, topic := range []string{"r", "w", "n"} {
		req := kmsg.NewPtrFetchRequest()
		req.Version, req.MaxBytes, req.ReplicaID = 12, 1<<20, -1
		ft := kmsg.NewFetchRequestTopic()
		ft.Topic = topic
		fp := kmsg.NewFetchRequestTopicPartition()
		fp.PartitionMaxBytes, fp.CurrentLeaderEpoch, fp.LastFetchedEpoch = 1<<20, -1, -1
		ft.Partitions = append(ft.Partitions, fp)
		req.Topics = append(req.Topics, ft)
		send("fetch "+topic, req, func(r kmsg.Response) any {
			f := r.(*kmsg.FetchResponse)
			return [2]int16{f.ErrorCode, f.Topics[0].Partitions[0].ErrorCode}
		})
		lo := kmsg.NewPtrListOffsetsRequest()
		lo.Version, lo.ReplicaID = 7, -1
		lt := kmsg.NewListOffsetsRequestTopic()
		lt.Topic = topic
		lp := kmsg.NewListOffsetsRequestTopicPartition()
		lp.Timestamp, lp.CurrentLeaderEpoch = -1, -1
		lt.Partitions = append(lt.Partitions, lp)
		lo.Topics = append(lo.Topics, lt)
		send("list offsets "+topic, lo, func(r kmsg.Response) any { return r.(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0].ErrorCode })
	}
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 12
	send("metadata all", md, func(r kmsg.Response) any {
		var names []string
		for _, t := range r.(*kmsg.MetadataResponse).Topics {
			names = append(names, *t.Topic)
		}
		sort.Strings(names)
		return names
	})
	for _, topic := range []string{"w", "n", "missing-x"} {
		m := kmsg.NewPtrMetadataRequest()
		m.Version, m.AllowAutoTopicCreation, m.IncludeTopicAuthorizedOperations = 12, true, true
		mt := kmsg.NewMetadataRequestTopic()
		mt.Topic = kmsg.StringPtr(topic)
		m.Topics = append(m.Topics, mt)
		send("metadata "+topic, m, func(r kmsg.Response) any {
			t := r.(*kmsg.MetadataResponse).Topics[0]
			ops := t.AuthorizedOperations
			if t.ErrorCode != 0 {
				ops = 0 // not compared when refused
			}
			return [2]any{t.ErrorCode, ops}
		})
	}
	dq := kmsg.NewPtrDescribeClientQuotasRequest()
	send("describe client quotas", dq, func(r kmsg.Response) any { return r.(*kmsg.DescribeClientQuotasResponse).ErrorCode })
	aq := kmsg.NewPtrAlterClientQuotasRequest()
	aqe := kmsg.NewAlterClientQuotasRequestEntry()
	aqe.Entity = []kmsg.AlterClientQuotasRequestEntryEntity{{Type: "user", Name: kmsg.StringPtr("alice")}}
	aqe.Ops = []kmsg.AlterClientQuotasRequestEntryOp{{Key: "producer_byte_rate", Value: 1000}}
	aq.Entries = append(aq.Entries, aqe)
	send("alter client quotas", aq, func(r kmsg.Response) any { return r.(*kmsg.AlterClientQuotasResponse).Entries[0].ErrorCode })
	for _, c := range []struct {
		key string
		typ int8
	}{{"g", 0}, {"h", 0}, {"tx", 1}, {"ty", 1}} {
		fc := kmsg.NewPtrFindCoordinatorRequest()
		fc.Version, fc.CoordinatorType, fc.CoordinatorKeys = 4, c.typ, []string{c.key}
		send(fmt.Sprintf("find coordinator %d %s", c.typ, c.key), fc, func(r kmsg.Response) any {
			return r.(*kmsg.FindCoordinatorResponse).Coordinators[0].ErrorCode
		})
	}
	for _, id := range []string{"tx", "ty", ""} {
		ip := kmsg.NewPtrInitProducerIDRequest()
		ip.Version, ip.TransactionTimeoutMillis, ip.ProducerID, ip.ProducerEpoch = 4, 60000, -1, -1
		if id != "" {
			ip.TransactionalID = kmsg.StringPtr(id)
		}
		send("init producer id "+id, ip, func(r kmsg.Response) any { return r.(*kmsg.InitProducerIDResponse).ErrorCode })
	}
	for _, topic := range []string{"new", "pre-new"} {
		ct := kmsg.NewPtrCreateTopicsRequest()
		ct.Version, ct.TimeoutMillis = 7, 10000
		tt := kmsg.NewCreateTopicsRequestTopic()
		tt.Topic, tt.NumPartitions, tt.ReplicationFactor = topic, 1, 1
		ct.Topics = append(ct.Topics, tt)
		send("create topic "+topic, ct, func(r kmsg.Response) any { return r.(*kmsg.CreateTopicsResponse).Topics[0].ErrorCode })
	}
	dt := kmsg.NewPtrDeleteTopicsRequest()
	dt.Version, dt.TimeoutMillis = 6, 10000
	dtt := kmsg.NewDeleteTopicsRequestTopic()
	dtt.Topic = kmsg.StringPtr("d")
	dt.Topics = append(dt.Topics, dtt)
	send("delete topic d", dt, func(r kmsg.Response) any { return r.(*kmsg.DeleteTopicsResponse).Topics[0].ErrorCode })
	for _, topic := range []string{"r", "pre-a"} {
		dc := kmsg.NewPtrDescribeConfigsRequest()
		dc.Version = 4
		res := kmsg.NewDescribeConfigsRequestResource()
		res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, topic
		dc.Resources = append(dc.Resources, res)
		send("describe configs "+topic, dc, func(r kmsg.Response) any { return r.(*kmsg.DescribeConfigsResponse).Resources[0].ErrorCode })
	}
	for _, g := range []string{"g", "h", "free"} {
		dc := kmsg.NewPtrDescribeConfigsRequest()
		dc.Version = 4
		res := kmsg.NewDescribeConfigsRequestResource()
		res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeGroupConfig, g
		dc.Resources = append(dc.Resources, res)
		send("describe group configs "+g, dc, func(r kmsg.Response) any { return r.(*kmsg.DescribeConfigsResponse).Resources[0].ErrorCode })
		ia := kmsg.NewPtrIncrementalAlterConfigsRequest()
		ia.Version = 1
		ir := kmsg.NewIncrementalAlterConfigsRequestResource()
		ir.ResourceType, ir.ResourceName = kmsg.ConfigResourceTypeGroupConfig, g
		ic := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		ic.Name, ic.Value = "consumer.session.timeout.ms", kmsg.StringPtr("50000")
		ir.Configs = append(ir.Configs, ic)
		ia.Resources = append(ia.Resources, ir)
		send("alter group configs "+g, ia, func(r kmsg.Response) any { return r.(*kmsg.IncrementalAlterConfigsResponse).Resources[0].ErrorCode })
	}
	lcr := kmsg.NewPtrListConfigResourcesRequest()
	lcr.Version, lcr.ResourceTypes = 1, []int8{4}
	send("list config resources", lcr, func(r kmsg.Response) any { return r.(*kmsg.ListConfigResourcesResponse).ErrorCode })
	dtp := kmsg.NewPtrDescribeTopicPartitionsRequest()
	for _, topic := range []string{"r", "n"} {
		rt := kmsg.NewDescribeTopicPartitionsRequestTopic()
		rt.Topic = topic
		dtp.Topics = append(dtp.Topics, rt)
	}
	send("describe topic partitions", dtp, func(r kmsg.Response) any {
		var codes []int16
		for _, t := range r.(*kmsg.DescribeTopicPartitionsResponse).Topics {
			codes = append(codes, t.ErrorCode)
		}
		return fmt.Sprint(codes)
	})
	dg := kmsg.NewPtrDescribeGroupsRequest()
	dg.Version, dg.Groups = 5, []string{"h"}
	send("describe group h", dg, func(r kmsg.Response) any { return r.(*kmsg.DescribeGroupsResponse).Groups[0].ErrorCode })
	dcl := kmsg.NewPtrDescribeClusterRequest()
	dcl.Version, dcl.IncludeClusterAuthorizedOperations = 1, true
	send("describe cluster", dcl, func(r kmsg.Response) any {
		d := r.(*kmsg.DescribeClusterResponse)
		return [2]any{d.ErrorCode, d.ClusterAuthorizedOperations}
	})
	da := kmsg.NewPtrDescribeACLsRequest()
	da.Version, da.ResourceType, da.ResourcePatternType = 3, kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny
	da.Operation, da.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	send("describe acls", da, func(r kmsg.Response) any { return r.(*kmsg.DescribeACLsResponse).ErrorCode })
	for _, c := range []struct{ group, topic string }{{"g", "r"}, {"g", "w"}, {"h", "r"}} {
		oc := kmsg.NewPtrOffsetCommitRequest()
		oc.Version, oc.Group, oc.Generation = 8, c.group, -1
		ot := kmsg.NewOffsetCommitRequestTopic()
		ot.Topic = c.topic
		op := kmsg.NewOffsetCommitRequestTopicPartition()
		op.Offset, op.LeaderEpoch = 0, -1
		ot.Partitions = append(ot.Partitions, op)
		oc.Topics = append(oc.Topics, ot)
		send("offset commit "+c.group+" "+c.topic, oc, func(r kmsg.Response) any {
			return r.(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode
		})
	}
	of := kmsg.NewPtrOffsetFetchRequest()
	of.Version, of.Group = 7, "h"
	send("offset fetch h", of, func(r kmsg.Response) any { return r.(*kmsg.OffsetFetchResponse).ErrorCode })
	return out
}

// TestAuthorizationMatchesKafka runs the same ACLs and the same requests
// from one principal against Apache Kafka with the StandardAuthorizer and
// against Spool, and compares every answer.
func TestAuthorizationMatchesKafka(t *testing.T) {
	if err := kafkapeer.Installed(); err != nil {
		t.Fatal(err)
	}
	overrides := map[string]string{}
	for k, v := range common {
		overrides[k] = v
	}
	for k, v := range authzProps {
		overrides[k] = v
	}
	peer, err := kafkapeer.Start(kafkapeer.Options{Overrides: overrides, Features: map[string]string{"eligible.leader.replicas.version": "0"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Stop() })
	n := harness.SingleNode(t, overrides)
	n.Start()
	t.Cleanup(func() { n.Stop() })

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	authzSetup(t, ctx, peer.Addr())
	authzSetup(t, ctx, n.Addr)
	authzSettle(t, ctx, peer.Addr())
	authzSettle(t, ctx, n.Addr)
	want := authzMatrix(t, ctx, peer.Addr())
	got := authzMatrix(t, ctx, n.Addr)
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if os.Getenv("AUTHZ_DUMP") != "" {
			t.Logf("%s: kafka %v, spool %v", k, want[k], got[k])
		}
		if !reflect.DeepEqual(want[k], got[k]) {
			t.Errorf("%s: kafka %v, spool %v", k, want[k], got[k])
		}
	}
	t.Logf("%d requests compared", len(keys))
}
