#!/usr/bin/env bash
# Builds the S3-compatible server the tiered-storage tests start
# (versitygw with its posix backend, from its Go module at a pinned
# version) into bin/, when missing or of another version.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=v1.8.0
out=bin/versitygw
stamp=bin/versitygw.version
if [ -x "$out" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$VERSION" ]; then
	exit 0
fi
mkdir -p bin
echo "building versitygw $VERSION into $out"
GOBIN="$PWD/bin" go install "github.com/versity/versitygw/cmd/versitygw@$VERSION"
echo "$VERSION" >"$stamp"
