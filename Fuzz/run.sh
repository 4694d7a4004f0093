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
for name in tftp dhcp yaml range tftp-transfer dhcp-responder json; do
    corpus="$scratch/corpus/$name"           # grows as the fuzzer learns; the seeds in Git stay as they are
    artifacts="$scratch/artifacts/$name/"
    mkdir -p "$corpus" "$artifacts"
    # The longest input each reads, and the share of a runs budget it gets: the parsers run thousands of inputs a
    # second under AddressSanitizer, YAML ~300 (-O), the DHCP responder's conversations ~500, the TFTP transfer's
    # scripts (thousands of DATA packets each) ~80. The long runs in docs/benchmarks.md give each its own budget.
    max_len=1500
    divisor=1
    case "$name" in
        range) max_len=256 ;;                        # a header line
        yaml) max_len=4096; divisor=10 ;;            # fleet files and gold.yaml are longer than a datagram
        json) max_len=4096 ;;
        dhcp-responder) max_len=4096; divisor=5 ;;   # event scripts
        tftp-transfer) max_len=4096; divisor=40 ;;
    esac
    runs=("${limit[@]}")
    # Its share, but at least 1000 runs (or the whole budget when that is smaller).
    case "$budget" in *s) ;; *)
        floor=$(( budget < 1000 ? budget : 1000 ))
        runs=(-runs=$(( budget / divisor > floor ? budget / divisor : floor ))) ;;
    esac
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
