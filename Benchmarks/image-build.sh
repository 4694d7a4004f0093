#!/bin/sh
# Image build benchmark: 2 GiB Debian images for ten machines from one cached mmdebstrap base, a second
# version of one machine, and a full Debian boot under QEMU/TCG. Prints BENCH lines.
#
#   Benchmarks/image-build.sh [PACKAGE_DIR]     (default: the current directory; needs root, as builds chown)
#   GOLD_BENCH_DATA=/var/tmp/gold-image-bench   where the base cache and the scratch store live
set -eu
cd "${1:-.}"
export GOLD_BENCHMARK=1
swift test --filter ImageBenchmark 2>&1 | grep -E 'BENCH|✘|Test run'
