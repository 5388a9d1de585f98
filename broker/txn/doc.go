// Package txn is the transaction coordinator's state for one transactional
// id as a deterministic state machine, Kafka's TransactionMetadata: callers
// ask it to prepare a transition (InitProducerId, AddPartitionsToTxn,
// EndTxn, a timeout, an expiry), write the returned Transit to
// __transaction_state, and then complete or fail it. Between the two the
// id has a pending transition, and every other request gets
// CONCURRENT_TRANSACTIONS, which is how Kafka serialises a transactional
// id's life.
//
// It also owns the record formats of __transaction_state (Kafka's
// TransactionLogKey v0 and TransactionLogValue v0, through kmsg), their
// replay into state when a coordinator loads a partition, the
// transactional id to partition mapping, and the ListTransactions
// filters.
//
// It touches no socket, file or clock: times are passed in as Unix
// milliseconds and the broker package does the I/O (appends, marker
// requests, producer id allocation). It imports only kmsg/kerr and the
// standard library; never broker, storage or protocol.
package txn
