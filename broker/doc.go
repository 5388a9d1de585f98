// Package broker is Spool's data plane: one file per Kafka API handler
// (produce.go, fetch.go, metadata.go, ...), the broker's lifecycle towards
// the controller (registration, heartbeats, fencing), the metadata follower
// that fetches the committed __cluster_metadata log from the active
// controller and publishes immutable images, and the replica manager that
// keeps one storage.Log per hosted partition.
//
// Handlers read the current metadata image through an atomic pointer and
// never lock behind a metadata change.
//
// broker imports controller/metadata, storage, protocol and config.
package broker
