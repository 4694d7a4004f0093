#!/bin/sh
# Build gold-agent with the Swift standard library linked statically, so it runs on a plain Debian system
# (it needs only libc, libm, libstdc++ and libgcc_s). Prints the binary's path.
set -eu
cd "$(dirname "$0")/.."
config="${1:-release}"
swift build -c "$config" --product gold-agent -Xswiftc -static-stdlib --scratch-path .build-agent >&2
echo "$PWD/.build-agent/$config/gold-agent"
