package broker

import (
	"maps"
	"strings"

	"go.uber.org/zap"

	"spool/config"
	"spool/controller/metadata"
	"spool/security"
)

// keystoreSpec is listener l's keystore as the image and the static
// config say: listener.name.<l>.ssl.keystore.* set dynamically on this
// broker, then as a cluster default, then the static value.
func (b *Broker) keystoreSpec(img *metadata.Image, l string) security.StoreSpec {
	layers := b.configLayers(img)
	get := func(key string) string {
		name := "listener.name." + strings.ToLower(l) + "." + key
		for _, m := range []map[string]string{layers.DynamicBroker, layers.DynamicAll} {
			if v, ok := m[name]; ok {
				return v
			}
		}
		return b.cfg.Static.ListenerValue(l, key)
	}
	return security.StoreSpec{
		Type: get("ssl.keystore.type"), Location: get("ssl.keystore.location"), Password: get("ssl.keystore.password"),
		KeyPassword: get("ssl.key.password"), Inline: get("ssl.keystore.certificate.chain"), InlineKey: get("ssl.keystore.key"),
	}
}

// onKeystores reloads a TLS listener's certificate when its keystore
// settings change (IncrementalAlterConfigs on this broker): new
// handshakes use the new certificate, open connections keep theirs. A
// keystore that cannot be used is logged and the old one stays; the
// request that set it was checked by this broker first (checkKeystores),
// so this happens only when the file changed in between or another broker
// forwarded the change unchecked.
func (b *Broker) onKeystores(prev, next *metadata.Image, _ metadata.TopicChanges) {
	self := b.brokerResource()
	all := metadata.ConfigResource{Type: metadata.ConfigResourceBroker}
	if maps.Equal(prev.Configs[self], next.Configs[self]) && maps.Equal(prev.Configs[all], next.Configs[all]) {
		return
	}
	for l, ks := range b.cfg.Keystores {
		spec := b.keystoreSpec(next, l)
		if spec == ks.Spec() {
			continue
		}
		if err := ks.Reload(spec); err != nil {
			b.log.Error("listener keystore not reloaded; keeping the current certificate", zap.String("listener", l), zap.Error(err))
			continue
		}
		b.log.Info("listener keystore reloaded", zap.String("listener", l), zap.String("subject", security.SubjectDN(ks.Current().Leaf)))
	}
}

// checkKeystore tries a keystore change of this broker before it is
// written, so a bad file is refused with INVALID_CONFIG instead of being
// accepted and then not applied. It returns "" when the change is usable
// or does not touch a keystore of this broker.
func (b *Broker) checkKeystore(resourceName string, set map[string]*string) string {
	if resourceName != self(b) {
		return ""
	}
	img := b.Image()
	for l, ks := range b.cfg.Keystores {
		touched := false
		for name := range set {
			if lk, ok := config.ReloadableListenerKey(name); ok && lk.Listener == strings.ToUpper(l) {
				touched = true
			}
		}
		if !touched {
			continue
		}
		spec := b.keystoreSpec(img, l)
		apply := func(key string, dst *string) {
			if v, ok := set["listener.name."+strings.ToLower(l)+"."+key]; ok {
				if v == nil {
					*dst = b.cfg.Static.ListenerValue(l, key)
				} else {
					*dst = *v
				}
			}
		}
		apply("ssl.keystore.type", &spec.Type)
		apply("ssl.keystore.location", &spec.Location)
		apply("ssl.keystore.password", &spec.Password)
		apply("ssl.key.password", &spec.KeyPassword)
		apply("ssl.keystore.certificate.chain", &spec.Inline)
		apply("ssl.keystore.key", &spec.InlineKey)
		if err := ks.Check(spec); err != nil {
			return "listener " + l + ": " + err.Error()
		}
	}
	return ""
}

func self(b *Broker) string { return b.brokerResource().Name }
