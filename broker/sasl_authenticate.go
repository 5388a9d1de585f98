package broker

import "spool/protocol"

// handleSaslAuthenticate is SaslAuthenticate v0-2: one token of the
// exchange, KIP-152 errors on failure, the session lifetime on success.
func (b *Broker) handleSaslAuthenticate(req *protocol.Request, respond func(protocol.Response)) {
	protocol.ServeSaslAuthenticate(req, respond)
}
