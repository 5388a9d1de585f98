#!/usr/bin/env bash
# Runs one of Apache Kafka's command-line tools from ./lib by its usual name.
#
#   test/peers/kafka/tool.sh kafka-topics --bootstrap-server 127.0.0.1:9092 --list
#   PATH=$PWD/test/peers/kafka/bin:$PATH kafka-topics --bootstrap-server ... --list
#
# bin/ holds one link per tool to this script, so the tools can be put on
# PATH under Kafka's names (a trailing .sh is accepted too). `tool.sh
# --list` prints every name and its main class. The exit status and output
# are the tool's own; its log4j output (warnings and worse) goes to stderr.
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
lib=$here/lib

# Kafka's bin/*.sh names and the main class each runs.
declare -A main=(
	[kafka-acls]=org.apache.kafka.tools.AclCommand
	[kafka-broker-api-versions]=org.apache.kafka.tools.BrokerApiVersionsCommand
	[kafka-client-metrics]=org.apache.kafka.tools.ClientMetricsCommand
	[kafka-cluster]=org.apache.kafka.tools.ClusterTool
	[kafka-configs]=org.apache.kafka.tools.ConfigCommand
	[kafka-console-consumer]=org.apache.kafka.tools.consumer.ConsoleConsumer
	[kafka-console-producer]=org.apache.kafka.tools.ConsoleProducer
	[kafka-console-share-consumer]=org.apache.kafka.tools.consumer.ConsoleShareConsumer
	[kafka-consumer-groups]=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand
	[kafka-consumer-perf-test]=org.apache.kafka.tools.ConsumerPerformance
	[kafka-delegation-tokens]=org.apache.kafka.tools.DelegationTokenCommand
	[kafka-delete-records]=org.apache.kafka.tools.DeleteRecordsCommand
	[kafka-dump-log]=org.apache.kafka.tools.DumpLogSegments
	[kafka-e2e-latency]=org.apache.kafka.tools.EndToEndLatency
	[kafka-features]=org.apache.kafka.tools.FeatureCommand
	[kafka-get-offsets]=org.apache.kafka.tools.GetOffsetShell
	[kafka-groups]=org.apache.kafka.tools.GroupsCommand
	[kafka-leader-election]=org.apache.kafka.tools.LeaderElectionCommand
	[kafka-log-dirs]=org.apache.kafka.tools.LogDirsCommand
	[kafka-metadata-quorum]=org.apache.kafka.tools.MetadataQuorumCommand
	[kafka-producer-perf-test]=org.apache.kafka.tools.ProducerPerformance
	[kafka-reassign-partitions]=org.apache.kafka.tools.reassign.ReassignPartitionsCommand
	[kafka-replica-verification]=org.apache.kafka.tools.ReplicaVerificationTool
	[kafka-server-start]=kafka.Kafka
	[kafka-share-groups]=org.apache.kafka.tools.consumer.group.ShareGroupCommand
	[kafka-storage]=kafka.tools.StorageTool
	[kafka-streams-application-reset]=org.apache.kafka.tools.StreamsResetter
	[kafka-streams-groups]=org.apache.kafka.tools.streams.StreamsGroupCommand
	[kafka-topics]=org.apache.kafka.tools.TopicCommand
	[kafka-transactions]=org.apache.kafka.tools.TransactionsCommand
	[kafka-verifiable-consumer]=org.apache.kafka.tools.VerifiableConsumer
	[kafka-verifiable-producer]=org.apache.kafka.tools.VerifiableProducer
)

usage() {
	echo "usage: tool.sh NAME [ARGS...]   (or run bin/NAME; tool.sh --list for the names)" >&2
	exit 2
}

name=$(basename "$0")
if [ "$name" = tool.sh ]; then
	(($#)) || usage
	name=$1
	shift
fi
name=${name%.sh}
if [ "$name" = --list ]; then
	for n in $(printf '%s\n' "${!main[@]}" | sort); do printf '%-34s %s\n' "$n" "${main[$n]}"; done
	exit 0
fi
class=${main[$name]:-}
[ -n "$class" ] || { echo "tool.sh: no Kafka tool named $name (tool.sh --list)" >&2; exit 2; }
if [ ! -f "$lib/.pom.sha256" ]; then
	echo "tool.sh: the Apache Kafka jars are missing from $lib: run 'make kafka-peer'" >&2
	exit 2
fi
java=${JAVA_HOME:+$JAVA_HOME/bin/}java

# Kafka's tool scripts run with a 256 MiB heap. C1 only and the serial
# collector: these are short-lived processes on small machines, where
# start-up dominates (KAFKA_TOOL_JVM_OPTS replaces this choice, e.g. for a
# long producer-perf-test).
# shellcheck disable=SC2086 # a list of JVM options
exec "$java" ${KAFKA_HEAP_OPTS:--Xmx256m} ${KAFKA_TOOL_JVM_OPTS:--XX:TieredStopAtLevel=1 -XX:+UseSerialGC} \
	-Dlog4j2.configurationFile="$here/config/log4j2.properties" -Djava.awt.headless=true \
	-cp "$lib/*" "$class" "$@"
