#!/bin/sh
# Run Gold's whole test suite on a fresh Debian 12 machine: installs what the tests need, builds, tests.
# Run as root: the lab and network-boot tests create network namespaces, bridges and QEMU machines.
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
swift test --skip-build "$@"
