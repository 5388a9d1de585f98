// Package console is the built-in web console: a few static pages embedded
// in the binary (ui/, plain HTML, CSS and JavaScript, no build step) and the
// small JSON API under /v1/ they read. admin serves it on the operator HTTP
// listener, behind that listener's authentication.
//
// The API reads the metadata image for what it holds (brokers, their
// listeners and racks, partition assignments) and asks everything else
// (offsets, log sizes, configs, groups, transactions, ACLs, quotas, records)
// through the Kafka API with a client of the node's own, so every page shows
// what a Kafka client would be told and the console adds nothing to the
// produce and fetch paths. It is read-only.
//
// console must not import broker or controller: cmd/spool hands it
// functions over them (Sources).
package console
