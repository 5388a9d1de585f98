//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"spool/config"
	"spool/controller/metadata"
	"spool/protocol"
	"spool/security"
)

// nodeSecurity is a node's TLS and SASL: per bound listener, and how it
// connects to other brokers and to the controllers.
type nodeSecurity struct {
	listeners       map[string]*security.Listener
	interBrokerDial protocol.DialFunc
	controllerDial  protocol.DialFunc
}

func (s *nodeSecurity) close() {
	for _, l := range s.listeners {
		l.Close()
	}
}

// buildSecurity reads and checks every security setting before anything
// runs, so a TLS listener without a usable keystore, an unknown mechanism
// or a JAAS config that does not parse stops the start with exit 2.
// image is the metadata image of the listener's side, where SCRAM
// credentials and delegation tokens are looked up.
func buildSecurity(static *config.Config, node *config.Node, image func(controller bool) func() *metadata.Image) (*nodeSecurity, error) {
	ns := &nodeSecurity{listeners: map[string]*security.Listener{}}
	var lines []string
	for _, p := range security.Check(static, withHTTPListener(static, node.Listeners)) {
		lines = append(lines, p.Error())
	}
	for _, l := range node.Listeners {
		if l.SecurityProtocol == "PLAINTEXT" {
			continue
		}
		img := image(node.IsControllerListener(l.Name))
		sec, err := security.NewListener(static, l, scramLookup(img), tokenLookup(static.Get("delegation.token.secret.key"), img))
		if err != nil {
			lines = append(lines, err.Error())
			continue
		}
		ns.listeners[l.Name] = sec
	}
	if err := ns.outbound(static, node); err != nil {
		lines = append(lines, err.Error())
	}
	if len(lines) > 0 {
		ns.close()
		sort.Strings(lines)
		return nil, problemsError("invalid security configuration", lines)
	}
	return ns, nil
}

// outbound sets the dialers for the inter-broker and controller listeners
// (Kafka's sasl.mechanism.inter.broker.protocol and
// sasl.mechanism.controller.protocol, with the listener's own ssl.* and
// JAAS settings).
func (ns *nodeSecurity) outbound(static *config.Config, node *config.Node) error {
	protoMap, err := config.ParseProtocolMap(static.Get("listener.security.protocol.map"))
	if err != nil {
		return err
	}
	if len(node.ControllerListeners) > 0 {
		name := node.ControllerListeners[0]
		proto, ok := protoMap[name]
		if !ok {
			proto = "PLAINTEXT"
		}
		mech := strings.ToUpper(static.Get("sasl.mechanism.controller.protocol"))
		if security.UsesSASL(proto) && (mech == security.MechScramSHA256 || mech == security.MechScramSHA512) {
			return fmt.Errorf("sasl.mechanism.controller.protocol=%s: SCRAM credentials live in the metadata log, which controllers can only read once they reach each other; use PLAIN, or SSL with ssl.client.auth=required, on the controller listener", mech)
		}
		if security.UsesSASL(proto) && mech == "GSSAPI" {
			return fmt.Errorf("sasl.mechanism.controller.protocol is GSSAPI (Kafka's default), which Spool does not support; set it to the controller listener's mechanism")
		}
		if ns.controllerDial, err = dialer(static, config.Listener{Name: name, SecurityProtocol: proto}, mech, node.NodeID, "controller"); err != nil {
			return err
		}
	}
	if node.Broker && node.InterBrokerListener != "" {
		proto, ok := protoMap[node.InterBrokerListener]
		if !ok {
			return fmt.Errorf("inter.broker.listener.name %s is not in listener.security.protocol.map", node.InterBrokerListener)
		}
		mech := strings.ToUpper(static.Get("sasl.mechanism.inter.broker.protocol"))
		if security.UsesSASL(proto) && mech == "GSSAPI" {
			return fmt.Errorf("sasl.mechanism.inter.broker.protocol is GSSAPI (Kafka's default), which Spool does not support; set it to a mechanism of listener %s", node.InterBrokerListener)
		}
		l := config.Listener{Name: node.InterBrokerListener, SecurityProtocol: proto}
		if ns.interBrokerDial, err = dialer(static, l, mech, node.NodeID, "inter-broker"); err != nil {
			return err
		}
	}
	return nil
}

func dialer(static *config.Config, l config.Listener, mech string, nodeID int32, what string) (protocol.DialFunc, error) {
	if l.SecurityProtocol == "PLAINTEXT" {
		return nil, nil
	}
	cc, err := security.OutboundConfig(static, l, mech)
	if err != nil {
		return nil, fmt.Errorf("%s connections: %w", what, err)
	}
	if security.UsesTLS(cc.Protocol) {
		// Load the stores now: a bad truststore is a start-up error, not
		// a failure on the first connection.
		if _, err := cc.TLSConfig("localhost"); err != nil {
			return nil, fmt.Errorf("%s connections over %s: %w", what, l.Name, err)
		}
	}
	return cc.Dialer(fmt.Sprintf("spool-%s-%d", what, nodeID)), nil
}

// scramLookup reads credentials from an image as it is at each login.
func scramLookup(image func() *metadata.Image) security.ScramLookup {
	return func(user string, mech int8) (security.ScramCredential, bool) {
		img := image()
		if img == nil {
			return security.ScramCredential{}, false
		}
		u, ok := img.Scram(user, mech)
		if !ok {
			return security.ScramCredential{}, false
		}
		return security.ScramCredential{Mechanism: mech, Salt: u.Salt, StoredKey: u.StoredKey, ServerKey: u.ServerKey, Iterations: u.Iterations}, true
	}
}

// tokenLookup finds live delegation tokens in an image; nil (token logins
// refused) without delegation.token.secret.key. A token's SCRAM credential
// is derived at each login from its HMAC, the password clients use, with
// Kafka's minimum iterations, as Kafka's brokers derive theirs.
func tokenLookup(secret string, image func() *metadata.Image) security.TokenLookup {
	if secret == "" {
		return nil
	}
	return func(id string, mech int8, now time.Time) (security.ScramCredential, string, time.Time, bool) {
		img := image()
		if img == nil {
			return security.ScramCredential{}, "", time.Time{}, false
		}
		t, ok := img.Token(id)
		if !ok || t.ExpiryMs < now.UnixMilli() || t.MaxMs < now.UnixMilli() {
			return security.ScramCredential{}, "", time.Time{}, false
		}
		cred, err := security.NewScramCredential(mech, security.TokenPassword(secret, id), nil, security.MinScramIterations)
		if err != nil {
			return security.ScramCredential{}, "", time.Time{}, false
		}
		_, owner, _ := strings.Cut(t.Owner, ":")
		return cred, owner, time.UnixMilli(t.ExpiryMs), true
	}
}

// bootstrapFile holds what `storage format --add-scram` asks the first
// active controller to write: one record batch of metadata records.
const bootstrapFile = "bootstrap.checkpoint"

func writeBootstrap(dir string, recs []metadata.Record) error {
	if len(recs) == 0 {
		return nil
	}
	b := metadata.AppendRecordBatch(nil, 0, 0, 0, recs)
	tmp := filepath.Join(dir, bootstrapFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, bootstrapFile))
}

func readBootstrap(dir string) ([]metadata.Record, error) {
	b, err := os.ReadFile(filepath.Join(dir, bootstrapFile))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	_, recs, _, err := metadata.DecodeBatch(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, bootstrapFile), err)
	}
	return recs, nil
}

// keystores are the reloadable certificates of the broker's TLS listeners.
func (s *nodeSecurity) keystores(node *config.Node) map[string]*security.Keystore {
	out := map[string]*security.Keystore{}
	for name, l := range s.listeners {
		if l.Keystore != nil && !node.IsControllerListener(name) {
			out[name] = l.Keystore
		}
	}
	return out
}
