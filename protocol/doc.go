// Package protocol is Spool's side of the Kafka wire: TCP listeners, the
// length-prefixed frame reader, request-header parsing, kmsg decoding and
// encoding, and per-connection pipelining that answers in request order.
//
// A connection reads requests one after another and hands each to the
// Handler on the reading goroutine, so work whose order matters (appends
// from one producer connection) happens in request order. A handler may
// answer later from any goroutine (an acks=all produce waiting for fsync, a
// long-polling fetch); the connection's writer still sends the answers in
// request order, as Kafka clients require.
//
// The package also has a small client (Client) used between Spool processes:
// brokers to controllers and controllers to each other.
//
// protocol imports only config from Spool.
package protocol
