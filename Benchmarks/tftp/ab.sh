#!/usr/bin/env bash
# Gold against Gold: two or more builds (or settings) of `gold tftp serve` in turn on loopback, each alone, with
# the server's own CPU time (user + system from /proc, 10 ms ticks) beside the wall time, because on a small
# shared machine the wall time of lock-step transfers swings by 3x with where the scheduler puts the threads,
# while the CPU spent per block moves much less.
#
#   Benchmarks/tftp/ab.sh [--rounds N] BINARY [BINARY...]
#
# A BINARY may be a script that runs gold with extra flags (it is called as `BINARY tftp serve --root DIR
# --listen ADDR`). Per round and binary: one 64 MiB download with atftp at blksize 1468 (after a warm-up one),
# then a boot storm of 500 clients x 1 MiB (Benchmarks/tftp/tftpstorm.c). Needs atftp and a C compiler.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
rounds=3
bins=()
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds=$2; shift 2 ;;
        *) bins+=("$1"); shift ;;
    esac
done
[ ${#bins[@]} -gt 0 ] || { echo "usage: $0 [--rounds N] BINARY [BINARY...]" >&2; exit 2; }
command -v atftp >/dev/null || { echo "missing atftp (Debian package atftp)" >&2; exit 2; }

work=$(mktemp -d /tmp/goldab.XXXXXX)
chmod 755 "$work"
mkdir -m 755 "$work/root"
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
head -c $((64 << 20)) /dev/urandom >"$work/root/big.bin"
head -c $((1 << 20)) /dev/urandom >"$work/root/boot.bin"
chmod 644 "$work/root"/*
cc -O2 -o "$work/tftpstorm" "$here/tftpstorm.c"
sleep 1.5 # older than Gold's file-cache settle time (1 s), as boot files on a real server are

tck=$(getconf CLK_TCK)
blocks=$(((64 << 20) / 1468 + 1))
cpu_ms() { awk -v t="$tck" '{print int(($14 + $15) * 1000 / t)}' "/proc/$1/stat"; }
port=16980
for r in $(seq "$rounds"); do
    for bin in "${bins[@]}"; do
        port=$((port + 1))
        "$bin" tftp serve --root "$work/root" --listen "127.0.0.1:$port" 2>/dev/null &
        server=$!
        sleep 1.5
        atftp --option "blksize 1468" -g -r big.bin -l "$work/out" 127.0.0.1 "$port" >/dev/null 2>&1 # warm-up
        a=$(cpu_ms "$server"); t0=$(date +%s.%N)
        atftp --option "blksize 1468" -g -r big.bin -l "$work/out" 127.0.0.1 "$port" >/dev/null 2>&1 || true
        t1=$(date +%s.%N); b=$(cpu_ms "$server")
        cmp -s "$work/out" "$work/root/big.bin" || echo "round $r $bin: downloaded file differs" >&2
        lock=$(awk -v w="$(echo "$t1 - $t0" | bc -l)" -v c=$((b - a)) -v n=$blocks \
            'BEGIN { printf "lock-step %.1f MB/s, server CPU %d ms (%.1f µs/block)", 67108864 / w / 1e6, c, c * 1000 / n }')
        a=$(cpu_ms "$server")
        storm=$("$work/tftpstorm" 127.0.0.1 "$port" boot.bin "$work/root/boot.bin" 500 120 || true)
        b=$(cpu_ms "$server")
        echo "round $r $(basename "$bin"): $lock | storm $storm, server CPU $((b - a)) ms"
        kill "$server"; wait "$server" 2>/dev/null || true
        server=""
    done
done
