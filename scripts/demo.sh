#!/bin/sh
# Gold's demo on a fresh Debian 12 machine, as root: install what is needed, build Gold and its agent, bring up a
# lab of QEMU machines on a private network and provision every one of them over the network, step by step.
# The lab stays up afterwards; `scripts/demo.sh down` (or `gold lab down`) removes it.
set -eu
cd "$(dirname "$0")/.."
gold=.build/debug/gold
if [ "${1:-}" = down ]; then
    exec $gold lab down
fi
scripts/setup.sh
echo "demo: building Gold and its statically linked agent (several minutes the first time)"
swift build --product gold
agent=$(scripts/build-agent.sh debug)
exec $gold lab demo --machines "${GOLD_DEMO_MACHINES:-2}" --agent "$agent"
