#!/usr/bin/env bash
# Resolves the Apache Kafka peer (the broker, its tools, Kafka Streams and
# the Java client, see pom.xml) from Maven Central into ./lib, cached in
# ~/.m2. A no-op when lib/ already holds what pom.xml names. Installs Java
# and Maven from Debian's packages when they are missing and we are root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lib=$here/lib
stamp=$lib/.pom.sha256
want=$(sha256sum "$here/pom.xml" | cut -d' ' -f1)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	exit 0
fi

need_apt=()
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
if ((${#need_apt[@]})); then
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		echo "fetch.sh: missing ${need_apt[*]}; install them with: sudo apt-get install -y ${need_apt[*]}" >&2
		exit 1
	fi
	echo "installing ${need_apt[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

echo "fetching the Apache Kafka peer into $lib (mvn dependency:copy-dependencies)"
tmp=$here/lib.tmp
rm -rf "$tmp"
# Maven 3.8 colours its quiet output even in batch mode; strip the escapes.
mvn -B -q -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$tmp" 2>&1 | sed 's/\x1b\[[0-9;]*m//g'
rm -rf "$lib"
mv "$tmp" "$lib"
echo "$want" >"$stamp"
