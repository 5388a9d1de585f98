#!/usr/bin/env bash
# Installs the stock Kafka clients the tests drive, if they are missing.
# Needs root (apt-get) and access to the Debian and npm registries; the Go
# clients come with `go build` from the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."

py=/usr/bin/python3
need_apt=()
command -v kcat >/dev/null 2>&1 || need_apt+=(kcat)
"$py" -c 'import confluent_kafka' >/dev/null 2>&1 || need_apt+=(python3-confluent-kafka)
"$py" -c 'import kafka' >/dev/null 2>&1 || need_apt+=(python3-kafka)
# kafka-python's snappy, lz4 and zstd codecs.
"$py" -c 'import snappy' >/dev/null 2>&1 || need_apt+=(python3-snappy)
"$py" -c 'import lz4.frame' >/dev/null 2>&1 || need_apt+=(python3-lz4)
"$py" -c 'import zstandard' >/dev/null 2>&1 || need_apt+=(python3-zstandard)
# The PyPI clients go into a virtualenv made by Debian's python3 -m venv.
"$py" -c 'import ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
# kafkajs runs on Node.js; confluent-kafka-go links its bundled librdkafka with cgo.
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc libc6-dev)
# The Java client and Kafka Streams runners build with Maven on a JDK 17+.
command -v javac >/dev/null 2>&1 || need_apt+=(default-jdk-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
# The web console's page test loads every page in headless Chromium.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# The network-partition tests build their namespaces with ip (iproute2).
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)

if ((${#need_apt[@]})); then
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		echo "missing test clients: ${need_apt[*]}" >&2
		echo "install them with: sudo apt-get update && sudo apt-get install -y ${need_apt[*]}" >&2
		exit 1
	fi
	echo "installing ${need_apt[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# kafkajs and its snappy codec, pinned by the committed package-lock.json.
js=test/clients/kafkajs
if [ ! -d "$js/node_modules/kafkajs" ] || [ ! -d "$js/node_modules/kafkajs-snappy" ] ||
	[ "$js/package-lock.json" -nt "$js/node_modules/.package-lock.json" ]; then
	echo "installing kafkajs (npm ci in $js)"
	if ! (cd "$js" && npm ci --no-audit --no-fund --loglevel=error); then
		echo "missing test client: kafkajs" >&2
		echo "install it with: (cd $js && npm ci)" >&2
		exit 1
	fi
fi

# The current PyPI clients (confluent-kafka, kafka-python 2.x, aiokafka),
# pinned by requirements.txt, in the project's own virtualenv; remade when
# the requirements change.
venv=test/clients/python/.venv
req=test/clients/python/requirements.txt
if [ ! -f "$venv/.installed" ] || [ "$req" -nt "$venv/.installed" ]; then
	echo "installing the PyPI clients into $venv (pip install -r $req)"
	rm -rf "$venv"
	"$py" -m venv "$venv"
	if ! "$venv/bin/pip" install -q --disable-pip-version-check --no-input -r "$req"; then
		echo "could not install the PyPI clients: $py -m venv $venv && $venv/bin/pip install -r $req" >&2
		exit 1
	fi
	touch "$venv/.installed"
fi

# The Java runners (kafka-clients and Kafka Streams, pinned in pom.xml),
# rebuilt when a source is newer than the last build's stamp.
jv=test/clients/java
if [ ! -f "$jv/target/.built" ] || [ -n "$(find "$jv/pom.xml" "$jv/src" -newer "$jv/target/.built" -print -quit)" ]; then
	echo "building the Java runners (mvn package in $jv)"
	log=$(mktemp)
	if ! (cd "$jv" && mvn -B --no-transfer-progress package >"$log" 2>&1); then
		tail -40 "$log" >&2
		echo "could not build the Java runners: (cd $jv && mvn package)" >&2
		exit 1
	fi
	rm -f "$log"
	touch "$jv/target/.built"
fi
