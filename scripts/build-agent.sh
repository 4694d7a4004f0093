#!/bin/sh
# Build gold-agent with the Swift standard library linked statically, so it runs on a plain Debian system
# (it needs only libc, libm, libstdc++ and libgcc_s). Prints the binary's path.
set -eu
cd "$(dirname "$0")/.."
config="${1:-release}"
# -static-stdlib changes how every module is compiled (Foundation's static link needs its own autolink entries; passing
# it at link time only fails with undefined CoreFoundation symbols), so the agent cannot reuse .build: it builds in
# .build-agent, where its dependencies (NIO, swift-crypto, ArgumentParser; not Hummingbird or GRDB) compile once more.
# The package checkouts come from SwiftPM's shared cache; a second run is incremental.
if [ ! -x ".build-agent/$config/gold-agent" ]; then
    echo "build-agent: building gold-agent ($config) with the Swift runtime linked in (-static-stdlib) in .build-agent;" \
        "its dependencies compile a second time there (a few minutes the first time), see scripts/build-agent.sh" >&2
fi
swift build -c "$config" --product gold-agent -Xswiftc -static-stdlib --scratch-path .build-agent >&2
echo "$PWD/.build-agent/$config/gold-agent"
