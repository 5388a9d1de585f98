#!/usr/bin/env bash
# Installs the stock Kafka clients the tests drive, if they are missing.
# Needs root (apt-get) and access to the Debian and npm registries.
set -euo pipefail

need_apt=()
command -v kcat >/dev/null 2>&1 || need_apt+=(kcat)
/usr/bin/python3 -c 'import confluent_kafka' >/dev/null 2>&1 || need_apt+=(python3-confluent-kafka)
/usr/bin/python3 -c 'import kafka' >/dev/null 2>&1 || need_apt+=(python3-kafka)

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
