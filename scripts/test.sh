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
if [ $# -gt 0 ]; then
    exec swift test --skip-build "$@"
fi
# Everything but the lab end-to-end test, in parallel; then the lab test alone (it provisions QEMU machines under
# TCG and wants the CPUs); then a brief run of the TFTP and DHCP parsers' fuzzers (a crash fails the run).
swift test --skip-build --skip LabProvisionTests
swift test --skip-build --filter LabProvisionTests
Fuzz/run.sh "${GOLD_FUZZ_RUNS:-100000}"
