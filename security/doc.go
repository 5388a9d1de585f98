// Package security holds Spool's TLS and SASL logic that needs no socket
// of its own: listener security settings read from Kafka's properties
// (listener.security.protocol.map, listener.name.<l>.* overrides), TLS
// configurations from keystores and truststores (PEM, PKCS12, JKS) with
// reloadable certificates, the mapping of certificate names to principals
// (ssl.principal.mapping.rules), the JAAS configuration parser, and the
// server side of the SASL mechanisms PLAIN, SCRAM-SHA-256/512 and
// OAUTHBEARER as per-connection state machines that take tokens in and hand
// tokens, errors and a principal back.
//
// The wire (reading frames, TLS handshakes on accepted sockets, gating
// requests until a connection authenticates) is protocol's; the SASL
// request handlers are broker's and controller's; SCRAM credentials reach
// the mechanisms through a lookup the caller supplies, so this package
// never sees the metadata image.
//
// security imports only config from Spool.
package security
