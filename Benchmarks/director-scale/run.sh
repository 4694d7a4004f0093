#!/usr/bin/env bash
# The director at fleet scale (issue 8): a fresh SQLite store with 10,000 machines, 1,000 provision workflows in flight
# through the real WorkflowRunner and HTTP API on 127.0.0.1, simulated machines, agents and deploy server answering
# over HTTP. Times `GET /v1/machines` (what `gold machine list` calls) and every step transition.
#
#   Benchmarks/director-scale/run.sh [gold-bench-director options]
#       --machines 10000 --in-flight 1000 --sustain 240 --delay-ms 1000-5000 --long-factor 4 --poll 25
#       --idle-agents 0 --idle-samples 30 --list-concurrency 4 --tick-ms 1000 [--json]
#
# Builds the release benchmark under the shared build lock (held only while building), then runs it. The Markdown
# report (or JSON with --json) goes to stdout, progress and the machine's description to stderr.
# GOLD_BENCH_SCRATCH picks the build directory (default .build-bench, shared with the other release benchmarks).
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
scratch=${GOLD_BENCH_SCRATCH:-$repo/.build-bench}

echo "[run.sh] building gold-bench-director (release, $scratch)" >&2
(cd "$repo" && flock /tmp/gold-build.lock swift build -c release --product gold-bench-director --scratch-path "$scratch" >&2)
bin="$scratch/release/gold-bench-director"
[ -x "$bin" ] || { echo "no benchmark binary at $bin" >&2; exit 2; }

# Every agent's long-poll is two descriptors in this one process (client and server side).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
{
    echo "[run.sh] $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/ {print $2}') GB RAM, kernel $(uname -r)"
    echo "[run.sh] temp dir: $(df -h "${TMPDIR:-/tmp}" | awk 'NR==2 {print $1, $6}'), open files limit $(ulimit -n), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "[run.sh] Gold at $(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD -- Sources Benchmarks/director-scale || echo ' (tree has uncommitted changes)')"
} >&2
"$bin" "$@"
echo "[run.sh] load average at the end $(cut -d' ' -f1-3 /proc/loadavg)" >&2
