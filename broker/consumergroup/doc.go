// Package consumergroup is the KIP-848 consumer group as a deterministic
// state machine: member epochs, the group's target assignment computed on
// the broker by the `uniform` and `range` assignors, the reconciliation of
// each member from what it owns to its target (revocation before
// assignment), subscriptions by topic name or RE2 regular expression,
// session and rebalance timeouts, static membership, offset commit
// validation against member epochs, the group's records in
// __consumer_offsets (Kafka's ConsumerGroup* key and value schemas) with
// their replay. Members that still speak the classic protocol inside a
// consumer group (KIP-848's online migration) are not handled yet: their
// metadata record round-trips, but no event drives them.
//
// Callers feed it events (a ConsumerGroupHeartbeat, a timer firing, a
// write completing) with the current time and a view of the topics, and
// it returns Out: the records to write, the
// responses to send once they are durable, and the timers to set. It owns
// no socket, file or clock. It imports broker/group (the classic group and
// the offsets every group keeps) and kmsg, never broker, storage or
// protocol.
package consumergroup
