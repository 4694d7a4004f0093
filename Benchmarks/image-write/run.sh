#!/usr/bin/env bash
# Writing a disk image to a file, side by side: dd, dd conv=sparse, bmaptool and `gold-agent write-image` (with
# its default --verify image, and with --verify chunks) (issue 7: "a 4 GiB image with 1 GiB used; ≤ 0.3× the time
# of dd and ≤ 1.1× bmaptool").
#
#   sudo Benchmarks/image-write/run.sh [--runs N] [--agent PATH] [--gold PATH] [--size-mib N] [--used-mib N]
#                                      [--no-delta] [--keep]
#
# Makes a sparse raw image (--size-mib, default 4096) with --used-mib (default 1024) of random data in 8
# regions (half of them not aligned to Gold's 1 MiB chunks), imports it into a scratch image store with
# `gold image import`, makes its bmap with `bmaptool create`, then for each of --runs runs (interleaved, the
# tools' order rotating from run to run) writes it with every tool onto a fresh target file. Unless --no-delta,
# a second case writes version 2 (64 MiB of it changed: three 16 MiB pieces inside the data, one in a
# former hole) onto a full-size, non-sparse target that holds version 1. The page cache is dropped before every
# timed write, so the sources are read from disk. Every target's SHA-256 is checked against the image's.
#
# Needs root (drop_caches) and the Debian packages coreutils and bmap-tools. The agent defaults to the release
# build from scripts/build-agent.sh (built if needed); `gold` to the debug build in .build (only its importer
# is used, untimed). Prints a Markdown table on stdout, progress on stderr. Scratch files live under /var/tmp
# (on disk, not tmpfs) and are removed at the end unless --keep.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
runs=3
agent=""
gold="$repo/.build/debug/gold"
size_mib=4096
used_mib=1024
delta=yes
keep=no
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=$2; shift 2 ;;
        --agent) agent=$2; shift 2 ;;
        --gold) gold=$2; shift 2 ;;
        --size-mib) size_mib=$2; shift 2 ;;
        --used-mib) used_mib=$2; shift 2 ;;
        --no-delta) delta=no; shift ;;
        --keep) keep=yes; shift ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done

need() { command -v "$1" >/dev/null || { echo "missing $1 (Debian package $2)" >&2; exit 2; }; }
need dd coreutils; need sha256sum coreutils; need truncate coreutils; need bmaptool bmap-tools
[ "$(id -u)" = 0 ] || { echo "run as root: dropping the page cache needs it" >&2; exit 2; }
[ -x "$gold" ] || { echo "no gold binary at $gold (build it: swift build --product gold), or pass --gold PATH" >&2; exit 2; }
regions=8
region_mib=$((used_mib / regions))
spacing=$((size_mib / regions))
[ "$region_mib" -ge 32 ] && [ $((spacing - region_mib)) -ge 160 ] \
    || { echo "--used-mib must be at least 256 and leave 160 MiB of holes per 1/8 of --size-mib" >&2; exit 2; }

log() { echo "[bench] $*" >&2; }

if [ -z "$agent" ]; then
    log "building the release agent (scripts/build-agent.sh release)"
    agent=$("$repo/scripts/build-agent.sh" release)
fi
[ -x "$agent" ] || { echo "no gold-agent at $agent" >&2; exit 2; }

work=$(mktemp -d /var/tmp/gold-image-write.XXXXXX)
cleanup() {
    if [ "$keep" = yes ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
img1="$work/v1.raw"
img2="$work/v2.raw"
store="$work/store"
target="$work/target.raw"

# --- the images ----------------------------------------------------------------------------------------------
log "work directory $work: ${size_mib} MiB image, ${used_mib} MiB used, $runs runs"
truncate -s "${size_mib}M" "$img1"
offsets=()
for i in $(seq 0 $((regions - 1))); do
    # Spread over the disk; odd regions start 68 KiB past a MiB boundary, as data rarely lines up with chunks.
    offset=$(((i * spacing + (i * 37) % (spacing - region_mib - 100)) << 20))
    [ $((i % 2)) = 1 ] && offset=$((offset + 68 * 1024))
    offsets+=("$offset")
    dd if=/dev/urandom of="$img1" bs=1M count="$region_mib" seek="$offset" oflag=seek_bytes conv=notrunc status=none
done
cp --sparse=always "$img1" "$img2"
# Version 2: three 16 MiB pieces of the data replaced, one 16 MiB piece written where version 1 has a hole.
for i in 1 3 5; do
    dd if=/dev/urandom of="$img2" bs=1M count=16 seek=$((offsets[i] + (32 << 20))) oflag=seek_bytes conv=notrunc status=none
done
dd if=/dev/urandom of="$img2" bs=1M count=16 seek=$((offsets[6] + ((region_mib + 40) << 20))) oflag=seek_bytes \
    conv=notrunc status=none
sha1=$(sha256sum "$img1" | cut -d' ' -f1)
sha2=$(sha256sum "$img2" | cut -d' ' -f1)

now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

t=$(now)
"$gold" image import "$img1" --machine bench --store "$store" --description "benchmark v1" --json >"$work/import1.json"
import1=$(since "$t")
"$gold" image import "$img2" --machine bench --store "$store" --description "benchmark v2" --json >"$work/import2.json"
t=$(now)
bmaptool -q create -o "$work/v1.bmap" "$img1"
bmap1=$(since "$t")
bmaptool -q create -o "$work/v2.bmap" "$img2"
log "imported v1 in $import1 s (gold, $(du -sm "$store" | cut -f1) MiB of chunks after v2); bmap of v1 in $bmap1 s"

# --- the runs --------------------------------------------------------------------------------------------------
tools=(dd dd-sparse bmaptool gold gold-chunks)
declare -A label=([dd]="dd" [dd-sparse]="dd conv=sparse" [bmaptool]="bmaptool copy" [gold]="gold-agent write-image"
    [gold-chunks]="gold-agent write-image --verify chunks")
declare -A times=()

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

write_with() { # tool image version bmap
    case "$1" in
        dd) dd if="$2" of="$target" bs=4M conv=fsync,notrunc status=none ;;
        dd-sparse) dd if="$2" of="$target" bs=4M conv=sparse,fsync,notrunc status=none ;;
        bmaptool) bmaptool -q copy --bmap "$4" "$2" "$target" ;;
        gold) "$agent" write-image --store "$store" --machine bench --version "$3" --target "$target" --json \
            >"$work/gold-$case-$run.json" ;;
        gold-chunks) "$agent" write-image --store "$store" --machine bench --version "$3" --target "$target" \
            --verify chunks --json >"$work/gold-chunks-$case-$run.json" ;;
    esac
}

check() { # expected-sha
    local got
    got=$(sha256sum "$target" | cut -d' ' -f1)
    [ "$got" = "$1" ] || { echo "$tool ($case, run $run) wrote a target with sha256 $got, not $1" >&2; exit 1; }
}

cases=(fresh)
[ "$delta" = yes ] && cases+=(delta)
for run in $(seq 1 "$runs"); do
    for k in "${!tools[@]}"; do
        tool=${tools[$(((run - 1 + k) % ${#tools[@]}))]}
        for case in "${cases[@]}"; do
            rm -f "$target"
            if [ "$case" = fresh ]; then
                image=$img1 version=1 bmap="$work/v1.bmap" sha=$sha1
            else
                # Full size and non-sparse, holding version 1: a disk that was imaged before.
                dd if="$img1" of="$target" bs=4M conv=fsync status=none
                image=$img2 version=2 bmap="$work/v2.bmap" sha=$sha2
            fi
            drop_caches
            t=$(now)
            write_with "$tool" "$image" "$version" "$bmap"
            seconds=$(since "$t")
            check "$sha"
            times[$case,$tool]+="$seconds "
            log "run $run $case ${label[$tool]}: $seconds s"
        done
    done
done
rm -f "$target"

# --- the table --------------------------------------------------------------------------------------------------
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }'; }
field() { sed -n "s/.*\"$2\" : \([0-9.]*\).*/\1/p" "$1" | head -n 1; }

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "Image: ${size_mib} MiB, ${used_mib} MiB of random data in $regions regions; median of $runs runs, seconds, page cache dropped before each."
echo
echo "| case | dd | dd conv=sparse | bmaptool copy | gold-agent write-image | gold / dd | gold / bmaptool | gold --verify chunks | its / dd | its / bmaptool |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for case in "${cases[@]}"; do
    declare -A m=()
    for tool in "${tools[@]}"; do m[$tool]=$(echo "${times[$case,$tool]}" | median); done
    if [ "$case" = fresh ]; then name="new target file"; else name="target holds v1, v2 differs by 64 MiB"; fi
    echo "| $name | ${m[dd]} | ${m[dd-sparse]} | ${m[bmaptool]} | ${m[gold]} | $(ratio "${m[gold]}" "${m[dd]}") |" \
        "$(ratio "${m[gold]}" "${m[bmaptool]}") | ${m[gold-chunks]} | $(ratio "${m[gold-chunks]}" "${m[dd]}") |" \
        "$(ratio "${m[gold-chunks]}" "${m[bmaptool]}") |"
done
echo
for case in "${cases[@]}"; do
    j="$work/gold-$case-1.json"
    echo "- gold, $case: $(field "$j" chunks) chunks, $(field "$j" fetched) fetched, $(field "$j" unchanged) unchanged," \
        "$(field "$j" zeroed) zeroed, $(( $(field "$j" bytesWritten) >> 20 )) MiB written, every chunk read back or" \
        "hashed, and (default --verify image) the image's SHA-256 over the whole disk"
    for tool in "${tools[@]}"; do echo "  - ${label[$tool]} runs: ${times[$case,$tool]}"; done
done
echo "- import of v1 (gold image import, $(basename "$gold")): $import1 s; bmaptool create: $bmap1 s"
echo "- load average at start: $load_start; at end: $load_end"
