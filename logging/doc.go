// Package logging builds the process logger: zap with a level per logger
// name that can change while the process runs (Kafka's log4j loggers and
// its kafka.request.logger, changed through the operator HTTP listener).
// It imports nothing of Spool's.
package logging
