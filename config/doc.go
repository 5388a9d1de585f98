// Package config turns a Kafka-style properties file, --override pairs and
// flags into a validated, typed broker configuration.
//
// It owns the single table of every broker and topic config Spool knows
// (name, type, default, validator, whether it may change at runtime, and the
// broker key that supplies a topic key's default). Everything else reads
// configs through this package so names, defaults and rules live in one place.
//
// config imports nothing else from Spool.
package config
