package clients_test

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"spool/test/harness"
)

// The secured deployment: three combined brokers+controllers whose client
// and inter-broker listener is SASL_SSL with SCRAM-SHA-512, whose
// controller listener is SSL with client certificates required (mTLS:
// SCRAM cannot guard it, since the credentials live in the metadata log the
// controllers replicate), with the StandardAuthorizer on and only the
// admin and the brokers as super users. Each scenario's client logs in as
// its own user, granted only what that scenario does.

var withSecured = flag.Bool("secured", true, "also run part of the matrix against a 3-broker SASL_SSL cluster with ACLs")

const securedName = "3 brokers, SASL_SSL + ACLs"

// securedScenarios are the scenarios the secured deployment runs: each
// kind of request a client sends once (admin, produce, the idempotent and
// transactional producers, a consumer group, offsets committed in a
// transaction). Compression and the other consumer scenarios take the
// same paths through TLS, SASL and the authorizer as produce and group,
// and the whole matrix a third time would cost more than the suite's
// budget allows.
var securedScenarios = map[string]bool{
	"admin": true, "produce": true, "idempotent": true, "transactions": true,
	"txn-offsets": true, "group": true,
	refusedPassword: true, refusedCA: true, refusedPlaintext: true,
}

// The negative cells: the client is refused, with the error Kafka gives,
// and the brokers keep serving everyone else.
const (
	refusedPassword  = "wrong-password"
	refusedCA        = "untrusted-ca"
	refusedPlaintext = "plaintext-on-tls"
)

// secured is what a client needs to reach the secured deployment.
type secured struct {
	caFile string
	// rogueCA is another CA: a client trusting only it must refuse the
	// brokers' certificates.
	rogueCA   string
	clientTLS *tls.Config
	nodes     []*harness.Node
	// toolsConfig is the --command-config of Kafka's tools.
	toolsConfig string
}

const (
	adminUser, adminPass   = "admin", "admin-secret"
	brokerUser, brokerPass = "broker", "broker-secret"
	toolsUser              = "tools"
)

// scenarioUser is the principal a scenario's clients log in as.
func scenarioUser(s *scenario) string {
	switch s.name {
	case refusedPassword, refusedCA, refusedPlaintext:
		return "produce"
	}
	return s.name
}

func password(user string) string { return user + "-secret" }

// securityArgs are the runner flags that reach the cell's deployment as
// the scenario's principal, with one thing wrong in a negative cell.
func (c *cell) securityArgs() []string {
	sec := c.d.sec
	if sec == nil {
		return nil
	}
	user := scenarioUser(c.s)
	protocol, pass, ca := "SASL_SSL", password(user), sec.caFile
	switch c.s.name {
	case refusedPassword:
		pass = "not-" + pass
	case refusedCA:
		ca = sec.rogueCA
	case refusedPlaintext:
		protocol = "PLAINTEXT"
	}
	return []string{"--security-protocol", protocol, "--sasl-mechanism", "SCRAM-SHA-512",
		"--sasl-user", user, "--sasl-password", pass, "--ca-file", ca}
}

// runs reports whether deployment d runs scenario s.
func (d *deployment) runs(s *scenario) bool {
	if d.sec == nil {
		return !s.securedOnly
	}
	return securedScenarios[s.name]
}

// startSecured starts the secured deployment and grants every selected
// cell's principal what its scenario needs.
func startSecured(t *testing.T, cls []*client, scs []*scenario, ks []*check) *deployment {
	d := &deployment{name: securedName, rf: 3, issues: []int{issueCluster, issueSecurity, issueACLs}}
	var c *harness.Cluster
	sec := &secured{}
	d.err = soft(t, func(tb testing.TB) {
		pki := harness.NewPKI(tb, "matrix")
		sec.caFile, sec.rogueCA = pki.CAFile, harness.NewPKI(tb, "rogue").CAFile
		sec.clientTLS = pki.ClientTLS("")
		c = harness.NewCluster(tb, []string{"broker,controller", "broker,controller", "broker,controller"}, nodeProps)
		users := []string{"--add-scram", scramSpec(adminUser, adminPass), "--add-scram", scramSpec(brokerUser, brokerPass),
			"--add-scram", scramSpec(toolsUser, password(toolsUser))}
		seen := map[string]bool{}
		for _, s := range scs {
			if u := scenarioUser(s); securedScenarios[s.name] && !seen[u] {
				seen[u] = true
				users = append(users, "--add-scram", scramSpec(u, password(u)))
			}
		}
		for _, n := range c.Nodes {
			// Every node's certificate names the broker principal: the
			// controllers take the certificate's CN as the principal, so
			// a node is User:broker on either listener.
			ks := pki.Issue(brokerUser, fmt.Sprintf("node-%d", n.ID))
			for k, v := range map[string]string{
				"listeners":                      fmt.Sprintf("SASL_SSL://%s,CONTROLLER://%s", n.Addr, n.CtrlAddr),
				"listener.security.protocol.map": "SASL_SSL:SASL_SSL,CONTROLLER:SSL",
				"inter.broker.listener.name":     "SASL_SSL",
				"ssl.keystore.type":              "PEM", "ssl.keystore.location": ks,
				"ssl.truststore.type": "PEM", "ssl.truststore.location": pki.CAFile,
				"listener.name.controller.ssl.client.auth":              "required",
				"ssl.principal.mapping.rules":                           `RULE:^CN=([^,]*),O=Spool$/$1/,DEFAULT`,
				"sasl.enabled.mechanisms":                               "SCRAM-SHA-512",
				"sasl.mechanism.inter.broker.protocol":                  "SCRAM-SHA-512",
				"listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": scramJAAS(brokerUser, brokerPass),
				"authorizer.class.name":                                 "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
				"super.users":                                           "User:" + adminUser + ";User:" + brokerUser,
				"offsets.topic.replication.factor":                      "3",
				"transaction.state.log.replication.factor":              "3",
			} {
				n.Props[k] = v
			}
			n.Rewrite()
			args := append([]string{"storage", "format", "--config", n.ConfigFile, "--cluster-id", n.ClusterID}, users...)
			if out, code := harness.Run(tb, args...); code != 0 {
				tb.Fatalf("format node %d: %s", n.ID, out)
			}
			n.ClientTLS = sec.clientTLS
		}
		c.Start()
		sec.toolsConfig = filepath.Join(tb.TempDir(), "tools.properties")
		props := fmt.Sprintf("security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=%s\n"+
			"ssl.truststore.type=PEM\nssl.truststore.location=%s\n", scramJAAS(toolsUser, password(toolsUser)), pki.CAFile)
		if err := os.WriteFile(sec.toolsConfig, []byte(props), 0o600); err != nil {
			tb.Fatal(err)
		}
	})
	if d.err != nil {
		return d
	}
	d.sec, sec.nodes = sec, c.Nodes
	d.seeds = c.BootstrapAddrs()
	d.dirs = map[int]string{}
	for _, n := range c.Nodes {
		d.dirs[n.ID] = n.Dir
		d.controllers = append(d.controllers, n.CtrlAddr)
	}
	admin := scram.Auth{User: adminUser, Pass: adminPass}.AsSha512Mechanism()
	if d.oracle, d.err = newOracle(d.seeds, kgo.DialTLSConfig(sec.clientTLS), kgo.SASL(admin)); d.err != nil {
		return d
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d.err = d.grant(ctx, cls, scs, ks)
	return d
}

func scramJAAS(user, pass string) string {
	return fmt.Sprintf(`org.apache.kafka.common.security.scram.ScramLoginModule required username="%s" password="%s";`, user, pass)
}

func scramSpec(user, pass string) string {
	return fmt.Sprintf("SCRAM-SHA-512=[name=%s,password=%s]", user, pass)
}

// grant creates every cell's ACLs in one request, then a topic, and waits
// until every broker knows the topic: brokers apply the metadata log in
// order, so each then holds the ACLs too, and no cell races its own grant.
func (d *deployment) grant(ctx context.Context, cls []*client, scs []*scenario, ks []*check) error {
	req := kmsg.NewPtrCreateACLsRequest()
	for _, s := range scs {
		if !d.runs(s) || s.grants == nil {
			continue
		}
		principal := "User:" + scenarioUser(s)
		for _, c := range cls {
			if _, na := c.na[s.name]; na {
				continue
			}
			for _, g := range s.grants(cellNames(c, s)) {
				req.Creations = append(req.Creations, g.creations(principal)...)
			}
		}
	}
	for _, k := range ks {
		if securedChecks[k.name] {
			for _, g := range toolGrants(checkPrefix(d, k)) {
				req.Creations = append(req.Creations, g.creations("User:"+toolsUser)...)
			}
		}
	}
	if len(req.Creations) > 0 {
		resp, err := req.RequestWith(ctx, d.oracle.cl)
		if err != nil {
			return fmt.Errorf("create ACLs: %w", err)
		}
		for i, r := range resp.Results {
			if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
				c := req.Creations[i]
				return fmt.Errorf("create ACL %s %s %v: %w", c.Principal, c.ResourceName, c.Operation, err)
			}
		}
	}
	return d.oracle.createTopic(ctx, "acls-applied", 1, d.rf, nil)
}

// names are a cell's resources: its topic, group and transactional id, as
// the runners name them.
type names struct{ topic, group, txnID string }

func cellNames(c *client, s *scenario) names {
	topic := c.name + "-" + s.name
	return names{topic: topic, group: "g-" + topic, txnID: topic + "-txn"}
}

// grant is one resource and the operations a scenario needs on it.
type grant struct {
	kind   string // topic, group, txn
	name   string
	prefix bool
	ops    []kmsg.ACLOperation
}

func (g grant) creations(principal string) []kmsg.CreateACLsRequestCreation {
	var out []kmsg.CreateACLsRequestCreation
	for _, op := range g.ops {
		c := kmsg.NewCreateACLsRequestCreation()
		switch g.kind {
		case "topic":
			c.ResourceType = kmsg.ACLResourceTypeTopic
		case "group":
			c.ResourceType = kmsg.ACLResourceTypeGroup
		case "txn":
			c.ResourceType = kmsg.ACLResourceTypeTransactionalId
		}
		c.ResourceName, c.ResourcePatternType = g.name, kmsg.ACLResourcePatternTypeLiteral
		if g.prefix {
			c.ResourcePatternType = kmsg.ACLResourcePatternTypePrefixed
		}
		c.Principal, c.Host = principal, "*"
		c.Operation, c.PermissionType = op, kmsg.ACLPermissionTypeAllow
		out = append(out, c)
	}
	return out
}

// Each scenario's grants: what Kafka's request handlers check for the
// requests it sends, and nothing more. DESCRIBE is implied by READ and
// WRITE in Kafka, but it is listed where the scenario describes a topic on
// its own, so a broker that forgets the implication still fails there.
var (
	grantAdmin = func(n names) []grant {
		return []grant{{kind: "topic", name: n.topic, ops: []kmsg.ACLOperation{kmsg.ACLOperationCreate, kmsg.ACLOperationDescribe, kmsg.ACLOperationDelete}}}
	}
	// The idempotent producer needs no IDEMPOTENT_WRITE on the cluster:
	// WRITE on a topic is enough (KIP-679).
	grantProduce = func(n names) []grant {
		return append(readBackGroups(n), grant{kind: "topic", name: n.topic, ops: []kmsg.ACLOperation{kmsg.ACLOperationWrite, kmsg.ACLOperationRead}})
	}
	grantTxn = func(n names) []grant {
		return append(readBackGroups(n),
			grant{kind: "topic", name: n.topic, ops: []kmsg.ACLOperation{kmsg.ACLOperationWrite, kmsg.ACLOperationRead}},
			grant{kind: "txn", name: n.txnID, ops: []kmsg.ACLOperation{kmsg.ACLOperationWrite}})
	}
	// readBackGroups are the groups the producing scenarios read back in:
	// kafkajs consumes only in a group, and a librdkafka consumer has a
	// group.id even when it assigns partitions itself, and looks up its
	// coordinator (FindCoordinator needs DESCRIBE on the group).
	readBackGroups = func(n names) []grant {
		return []grant{
			{kind: "group", name: n.topic + "-readback", ops: []kmsg.ACLOperation{kmsg.ACLOperationRead}},
			{kind: "group", name: "matrix-readback-unused", ops: []kmsg.ACLOperation{kmsg.ACLOperationDescribe}},
		}
	}
	grantGroup = func(n names) []grant {
		return []grant{
			{kind: "topic", name: n.topic, ops: []kmsg.ACLOperation{kmsg.ACLOperationRead}},
			{kind: "group", name: n.group, ops: []kmsg.ACLOperation{kmsg.ACLOperationRead}},
		}
	}
	grantTxnOffsets = func(n names) []grant {
		return []grant{
			{kind: "topic", name: n.topic, ops: []kmsg.ACLOperation{kmsg.ACLOperationRead}},
			{kind: "topic", name: n.topic + "-out", ops: []kmsg.ACLOperation{kmsg.ACLOperationWrite}},
			{kind: "group", name: n.group, ops: []kmsg.ACLOperation{kmsg.ACLOperationRead}},
			{kind: "txn", name: n.txnID, ops: []kmsg.ACLOperation{kmsg.ACLOperationWrite}},
		}
	}
)

// securedChecks are the tool checks the secured deployment runs, as
// User:tools with --command-config.
var securedChecks = map[string]bool{"kafka-topics": true, "kafka-console": true, "kafka-consumer-groups": true}

// toolGrants: the tools' user may do what the tool checks do, on the
// names of its checks only.
func toolGrants(prefix string) []grant {
	return []grant{
		{kind: "topic", name: prefix, prefix: true, ops: []kmsg.ACLOperation{kmsg.ACLOperationCreate, kmsg.ACLOperationDescribe, kmsg.ACLOperationAlter,
			kmsg.ACLOperationDelete, kmsg.ACLOperationWrite, kmsg.ACLOperationRead, kmsg.ACLOperationDescribeConfigs}},
		{kind: "group", name: prefix, prefix: true, ops: []kmsg.ACLOperation{kmsg.ACLOperationRead, kmsg.ACLOperationDescribe, kmsg.ACLOperationDelete}},
		// kafka-console-consumer without --group joins a group of its
		// own, console-consumer-<random>.
		{kind: "group", name: "console-consumer-", prefix: true, ops: []kmsg.ACLOperation{kmsg.ACLOperationRead}},
	}
}

// refused is a negative cell: the client runs its metadata scenario with
// one thing wrong and must fail with the error Kafka gives for it; then
// every broker still serves the admin.
func refused(kind string) func(context.Context, *cell) error {
	return func(ctx context.Context, c *cell) error {
		want, ok := c.c.refusals[kind]
		if !ok {
			return errNotRun
		}
		out := c.path("metadata.jsonl")
		runErr := c.runner(ctx, c.d.seeds, 20*time.Second, "--scenario", "metadata", "--out", out)
		why := ""
		if runErr != nil {
			why = runErr.Error()
		}
		if got, err := readLines[struct {
			Found bool   `json:"found"`
			Error string `json:"error"`
		}](out); err == nil && len(got) == 1 {
			if got[0].Found {
				return fmt.Errorf("the client was served: %s", kind)
			}
			why = strings.TrimSpace(why + " " + got[0].Error)
		}
		if runErr == nil && why == "" {
			return fmt.Errorf("the client reported no error: %s", kind)
		}
		if !want.MatchString(why) {
			return fmt.Errorf("the client failed, but not with %q: %s", want, why)
		}
		return c.d.healthy(ctx)
	}
}

// errNotRun: the cell does not apply to this client here.
var errNotRun = errors.New("not run")

// healthy: every node is up, answers ApiVersions over TLS, and serves the
// admin's metadata requests.
func (d *deployment) healthy(ctx context.Context) error {
	for _, n := range d.sec.nodes {
		if !n.Running() {
			return fmt.Errorf("node %d exited: %s", n.ID, tail(n.Output(), 2000))
		}
		if !harness.Answers(n.Addr, d.sec.clientTLS) {
			return fmt.Errorf("node %d does not answer ApiVersions over TLS", n.ID)
		}
	}
	md, err := d.oracle.adm.BrokerMetadata(ctx)
	if err != nil {
		return fmt.Errorf("the admin cannot reach the cluster: %w", err)
	}
	if len(md.Brokers) != len(d.sec.nodes) {
		return fmt.Errorf("the cluster has %d live brokers, want %d", len(md.Brokers), len(d.sec.nodes))
	}
	if !d.oracle.everyBrokerKnows(ctx, "acls-applied", 1, md.Brokers) {
		return errors.New("a broker no longer serves the admin's metadata requests")
	}
	return nil
}
