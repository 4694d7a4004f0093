#!/bin/sh
# Run Gold's whole test suite on a fresh Debian 12 machine: installs what the tests need, builds, tests.
# Run as root: the lab and network-boot tests create network namespaces, bridges and QEMU machines.
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
# The netboot environment's tests boot the statically linked agent.
GOLD_AGENT_BINARY=$(scripts/build-agent.sh debug)
export GOLD_AGENT_BINARY
swift build --build-tests
swift test --skip-build "$@"
# A brief run of the TFTP and DHCP parsers' fuzzers (libFuzzer); a crash fails the run.
if [ $# -eq 0 ]; then Fuzz/run.sh "${GOLD_FUZZ_RUNS:-100000}"; fi
