#!/usr/bin/env bash
# Runs Apache Kafka (KRaft) from ./lib in the foreground: the reference peer
# for Spool's tests and benchmarks.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: run.sh --port P --controller-port C --dir D [options]
       run.sh --nodes 3 --port P1,P2,P3 --controller-port C1,C2,C3 --dir D [options]

Formats D (unless already formatted) and runs Apache Kafka in KRaft mode in
the foreground, every node a combined broker and controller; node i
(node.id i) keeps its server.properties and data in D/node<i>. Once every
broker answers a Metadata request listing all N brokers, prints one line on
stdout:

    kafka serving 127.0.0.1:P1[,127.0.0.1:P2,...]

SIGTERM or SIGINT stops every node (SIGKILL after --stop-timeout) and exits
0; if a node dies on its own, the others are stopped and run.sh exits 1.
Kafka's log (warnings and worse unless --log-level) goes to stderr.

options:
  --port P[,P...]             client (PLAINTEXT) listener port of each node
  --controller-port C[,C...]  controller listener port of each node
  --dir D                     config and data directory
  --nodes N                   number of nodes (default 1; 3 for the cluster
                              benchmarks: three voters, internal topics at
                              Kafka's default replication)
  --host H                    address every listener binds (default 127.0.0.1)
  --override k=v              a broker property for every node; repeatable;
                              wins over the defaults below
  --cluster-id ID             (default H6tEawS4fdYsWCBQVZ0irQ)
  --feature name=level        a feature level to format with (kafka-storage
                              format --feature); repeatable
  --heap OPTS                 JVM heap (default $KAFKA_HEAP_OPTS, else
                              "-Xms256m -Xmx1g")
  --log-level L               log4j2 root level (default WARN)
  --ready-timeout S           seconds to wait until serving (default 120)
  --stop-timeout S            seconds to wait for a clean stop (default 30)

Properties written before the overrides: process.roles=broker,controller,
node.id, listeners, advertised.listeners, controller.quorum.voters,
log.dirs, and with fewer than 3 nodes the internal topics' replication
(offsets.topic.replication.factor, transaction.state.log.*,
share.coordinator.state.topic.*) lowered to the node count, as Kafka's own
single-node config/server.properties does. Everything else is Kafka's
default.

The jars come from ./fetch.sh (make kafka-peer).
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
lib=$here/lib
nodes=1 host=127.0.0.1 dir="" ports="" cports="" cluster_id=H6tEawS4fdYsWCBQVZ0irQ
heap=${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g} log_level=WARN ready_timeout=120 stop_timeout=30
overrides=()
features=()
while (($#)); do
	case $1 in
	--port) ports=$2 ;;
	--controller-port) cports=$2 ;;
	--dir) dir=$2 ;;
	--nodes) nodes=$2 ;;
	--host) host=$2 ;;
	--override) overrides+=("$2") ;;
	--cluster-id) cluster_id=$2 ;;
	--feature) features+=(--feature "$2") ;;
	--heap) heap=$2 ;;
	--log-level) log_level=$2 ;;
	--ready-timeout) ready_timeout=$2 ;;
	--stop-timeout) stop_timeout=$2 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "run.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
	esac
	shift 2 || { echo "run.sh: $1 needs a value" >&2; exit 2; }
done
IFS=, read -r -a port <<<"$ports"
IFS=, read -r -a cport <<<"$cports"
if [ -z "$dir" ] || ((${#port[@]} != nodes || ${#cport[@]} != nodes)); then
	echo "run.sh: --dir, and --port and --controller-port with $nodes port(s) each, are required" >&2
	usage >&2
	exit 2
fi
for o in "${overrides[@]}"; do
	[[ $o == *=* ]] || { echo "run.sh: --override $o is not k=v" >&2; exit 2; }
done
if [ ! -f "$lib/.pom.sha256" ]; then
	echo "run.sh: the Apache Kafka jars are missing from $lib: run 'make kafka-peer'" >&2
	exit 2
fi
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
command -v "$java" >/dev/null || { echo "run.sh: no java on PATH: run 'make kafka-peer'" >&2; exit 2; }

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
voters=""
for ((i = 1; i <= nodes; i++)); do
	voters+="${voters:+,}$i@$host:${cport[i - 1]}"
done

# write_config I: node I's server.properties.
write_config() {
	local i=$1 d=$dir/node$1
	mkdir -p "$d"
	{
		echo "process.roles=broker,controller"
		echo "node.id=$i"
		echo "listeners=PLAINTEXT://$host:${port[i - 1]},CONTROLLER://$host:${cport[i - 1]}"
		echo "advertised.listeners=PLAINTEXT://$host:${port[i - 1]}"
		echo "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
		echo "inter.broker.listener.name=PLAINTEXT"
		echo "controller.listener.names=CONTROLLER"
		echo "controller.quorum.voters=$voters"
		echo "log.dirs=$d/data"
		if ((nodes < 3)); then
			echo "offsets.topic.replication.factor=$nodes"
			echo "transaction.state.log.replication.factor=$nodes"
			echo "transaction.state.log.min.isr=1"
			echo "share.coordinator.state.topic.replication.factor=$nodes"
			echo "share.coordinator.state.topic.min.isr=1"
		fi
		for o in "${overrides[@]}"; do echo "$o"; done
	} >"$d/server.properties"
}

export KAFKA_LOG_LEVEL=$log_level
jvm=(-Dlog4j2.configurationFile="$here/config/log4j2.properties" -Djava.awt.headless=true -cp "$lib/*")
# Kafka's own kafka-run-class.sh performance options.
perf=(-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
	-XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15)

# Format every node at once (a JVM start each); --ignore-formatted keeps a
# formatted directory as it is, so run.sh also restarts a node.
fmt_pids=()
for ((i = 1; i <= nodes; i++)); do
	write_config "$i"
	"$java" -Xmx256m -XX:TieredStopAtLevel=1 "${jvm[@]}" kafka.tools.StorageTool format \
		-t "$cluster_id" -c "$dir/node$i/server.properties" --ignore-formatted "${features[@]}" >/dev/null &
	fmt_pids+=($!)
done
for p in "${fmt_pids[@]}"; do
	wait "$p" || { echo "run.sh: formatting $dir failed" >&2; exit 1; }
done

pids=()
stopping=0
stop() {
	((stopping)) && return
	stopping=1
	local p deadline=$((SECONDS + stop_timeout))
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		while kill -0 "$p" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}
trap 'stop; exit 0' TERM INT
trap 'stop' EXIT

for ((i = 1; i <= nodes; i++)); do
	# shellcheck disable=SC2086 # heap is a list of JVM options
	"$java" $heap "${perf[@]}" "${jvm[@]}" kafka.Kafka "$dir/node$i/server.properties" &
	pids+=($!)
done

# brokers_seen HOST PORT: how many brokers a Metadata v4 request (no topics)
# lists; Kafka lists only registered, unfenced brokers.
brokers_seen() {
	local out
	out=$(timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1
		printf "\0\0\0\x0f\0\x03\0\x04\0\0\0\x01\xff\xff\0\0\0\0\0" >&3
		od -An -tu1 -N16 <&3' "$1" "$2" 2>/dev/null) || return 1
	# shellcheck disable=SC2086 # split the bytes into words
	set -- $out
	(($# == 16)) || return 1
	# size(4) correlation id(4) throttle(4) broker count(4)
	echo $(((${13} << 24) | (${14} << 16) | (${15} << 8) | ${16}))
}

deadline=$((SECONDS + ready_timeout))
addrs=""
for ((i = 1; i <= nodes; i++)); do
	while :; do
		for p in "${pids[@]}"; do
			kill -0 "$p" 2>/dev/null || { echo "run.sh: a Kafka node exited before serving" >&2; exit 1; }
		done
		n=$(brokers_seen "$host" "${port[i - 1]}" || echo 0)
		((n >= nodes)) && break
		((SECONDS < deadline)) || { echo "run.sh: Kafka did not serve on $host:${port[i - 1]} within ${ready_timeout}s" >&2; exit 1; }
		sleep 0.2
	done
	addrs+="${addrs:+,}$host:${port[i - 1]}"
done
echo "kafka serving $addrs"

# Any node exiting on its own ends the run; a signal ends it through stop.
set +e
wait -n "${pids[@]}"
rc=$?
((stopping)) && exit 0
echo "run.sh: a Kafka node exited (status $rc)" >&2
exit 1
