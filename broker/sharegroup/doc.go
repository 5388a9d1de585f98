// Package sharegroup is KIP-932's share groups as deterministic state
// machines: Group is a share group's membership (member epochs, session
// timeouts, the simple assignor that gives every member every partition
// of the topics it subscribes to), and Partition is one share-partition:
// the share-partition start and end offsets, each in-flight record's
// state (available, acquired, acknowledged, archived), its delivery count
// and acquisition lock, acknowledgement (accept, release, reject, gap,
// renew), and the State that is persisted so acknowledgements survive a
// restart.
//
// Callers pass the time and the limits in; nothing here reads a clock,
// a file or a socket. It imports kmsg only, never broker, storage or
// protocol.
package sharegroup
