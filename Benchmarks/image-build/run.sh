#!/usr/bin/env bash
# Per-machine image builds from a cached base (issue 5: "a 2 GiB image in ≤ 10 s"), step by step, beside a plain
# shell pipeline (plain-pipeline.sh) over the same base.
#
#   sudo Benchmarks/image-build/run.sh [--debug] [gold-bench-image options]
#       --machines 10 --pipeline-runs 3 --uncached-runs 3 --import-anatomy --data /var/tmp/gold-image-bench
#
# Builds gold-bench-image in release (GOLD_BENCH_SCRATCH, default .build-bench, shared with the other release
# benchmarks; --debug: the debug build in .build) under the shared build lock, held only while building, then runs
# it. The base is mmdebstrap'd once and cached under --data (GOLD_BENCH_DATA). Needs root (builds keep owners) and
# the Debian packages the builder uses (e2fsprogs, fdisk, dosfstools, mtools, grub-efi-amd64-bin, ipxe, mmdebstrap)
# plus passwd for the pipeline's useradd. The Markdown report goes to stdout, progress to stderr.
set -euo pipefail
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
config=release
if [ "${1:-}" = --debug ]; then config=debug; shift; fi
if [ $config = release ]; then
    scratch=${GOLD_BENCH_SCRATCH:-$repo/.build-bench}
else
    scratch=$repo/.build
fi
[ "$(id -u)" = 0 ] || { echo "run as root: image builds keep file owners" >&2; exit 2; }
echo "[run.sh] building gold-bench-image ($config, $scratch)" >&2
(cd "$repo" && flock /tmp/gold-build.lock swift build -c $config --product gold-bench-image --scratch-path "$scratch" >&2)
echo "[run.sh] $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg), Gold at $(git -C "$repo" rev-parse --short HEAD)" >&2
exec "$scratch/$config/gold-bench-image" --build $config --pipeline "$here/plain-pipeline.sh" "$@"
