package broker

import "spool/protocol"

// handleSaslHandshake is SaslHandshake v0-1: the connection's SASL session
// (protocol) picks the mechanism; a v0 handshake switches the connection
// to raw tokens.
func (b *Broker) handleSaslHandshake(req *protocol.Request, respond func(protocol.Response)) {
	protocol.ServeSaslHandshake(req, respond)
}
