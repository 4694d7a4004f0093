#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each briefly from the seed corpus.
#
#   Fuzz/run.sh 200000      # 200000 inputs per fuzzer (CI)
#   Fuzz/run.sh 60s         # 60 seconds per fuzzer
#
# Exits non-zero if a fuzzer finds a crash; the crashing input is kept in Fuzz/.build-fuzz/artifacts/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
budget=${1:-200000}
case "$budget" in
    *s) limit=(-max_total_time="${budget%s}") ;;
    *) limit=(-runs="$budget") ;;
esac
scratch="${FUZZ_SCRATCH:-$here/.build-fuzz}"  # CI may point this at a cached directory

swift build --package-path "$here" --scratch-path "$scratch" -c debug
bin=$(swift build --package-path "$here" --scratch-path "$scratch" -c debug --show-bin-path)

status=0
for name in tftp dhcp yaml; do
    corpus="$scratch/corpus/$name"           # grows as the fuzzer learns; the seeds in Git stay as they are
    artifacts="$scratch/artifacts/$name/"
    mkdir -p "$corpus" "$artifacts"
    max_len=1500
    runs=("${limit[@]}")
    if [ "$name" = yaml ]; then
        max_len=4096  # fleet files and gold.yaml are longer than a datagram
        # YAML parsing under AddressSanitizer runs ~300 inputs/s, not thousands: a tenth of a runs budget keeps CI brief;
        # the long run in docs/benchmarks.md gives it 10^6.
        case "$budget" in *s) ;; *) runs=(-runs=$(( budget / 10 > 1000 ? budget / 10 : budget ))) ;; esac
    fi
    echo "== fuzz-$name (${runs[*]})"
    if ! "$bin/fuzz-$name" "${runs[@]}" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$artifacts" -print_final_stats=1 \
        "$corpus" "$here/corpus/$name" 2>"$scratch/$name.log"; then
        status=1
        echo "fuzz-$name FAILED; input in $artifacts, log in $scratch/$name.log"
    fi
    grep -E '^(#[0-9]+\s+DONE|Done [0-9]+ runs|stat::number_of_executed_units|stat::average_exec_per_sec)' \
        "$scratch/$name.log" || tail -20 "$scratch/$name.log"
done
exit $status
