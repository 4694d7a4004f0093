#!/usr/bin/env bash
# Lock-step TFTP (atftp, blksize 1468, 64 MiB) with server and client pinned: both on CPU 0, then server on CPU 0
# and client on CPU 1, for Gold (transfer threads on, and off: --lock-step-threads 0) and tftpd-hpa, in turn.
# On a small virtual machine the lock-step rate depends mostly on this placement (a wake-up across CPUs costs an
# inter-processor interrupt), so the unpinned run in run.sh shows one placement; this shows both.
#
#   Benchmarks/tftp/pinned.sh [--gold PATH] [--rounds N]
#
# Needs atftp, tftpd-hpa, util-linux (taskset) and at least 2 CPUs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
gold="$here/../../.build-bench/release/gold"
rounds=2
while [ $# -gt 0 ]; do
    case "$1" in
        --gold) gold=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
command -v atftp >/dev/null || { echo "missing atftp (Debian package atftp)" >&2; exit 2; }
[ -x /usr/sbin/in.tftpd ] || { echo "missing /usr/sbin/in.tftpd (Debian package tftpd-hpa)" >&2; exit 2; }
[ -x "$gold" ] || { echo "no Gold binary at $gold" >&2; exit 2; }
[ "$(nproc)" -ge 2 ] || { echo "needs 2 CPUs" >&2; exit 2; }

work=$(mktemp -d /tmp/goldpin.XXXXXX)
chmod 755 "$work"
mkdir -m 755 "$work/root"
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
head -c $((64 << 20)) /dev/urandom >"$work/root/big.bin"
chmod 644 "$work/root/big.bin"
sleep 1.5 # older than Gold's file-cache settle time

port=17100
one() { # server(gold|loops|hpa) server-cpu client-cpu
    local name=$1 scpu=$2 ccpu=$3
    port=$((port + 1))
    case "$name" in
        gold) cmd=("$gold" tftp serve --root "$work/root" --listen "127.0.0.1:$port") ;;
        loops) cmd=("$gold" tftp serve --root "$work/root" --listen "127.0.0.1:$port" --lock-step-threads 0) ;;
        hpa) cmd=(/usr/sbin/in.tftpd -L -s "$work/root" -a "127.0.0.1:$port") ;;
    esac
    taskset -c "$scpu" "${cmd[@]}" >/dev/null 2>&1 &
    server=$!
    sleep 1.5
    taskset -c "$ccpu" atftp --option "blksize 1468" -g -r big.bin -l "$work/out" 127.0.0.1 "$port" >/dev/null 2>&1
    local t0 t1
    t0=$(date +%s.%N)
    taskset -c "$ccpu" atftp --option "blksize 1468" -g -r big.bin -l "$work/out" 127.0.0.1 "$port" >/dev/null 2>&1 || true
    t1=$(date +%s.%N)
    cmp -s "$work/out" "$work/root/big.bin" || echo "$name: downloaded file differs" >&2
    kill "$server"; wait "$server" 2>/dev/null || true; server=""
    awk -v w="$(echo "$t1 - $t0" | bc -l)" 'BEGIN { printf "%.1f", 67108864 / w / 1e6 }'
}

echo "| placement (round) | Gold MB/s | Gold, event loops only | tftpd-hpa MB/s | Gold / tftpd-hpa |"
echo "|---|---:|---:|---:|---:|"
for r in $(seq "$rounds"); do
    for placement in "0 0" "0 1"; do
        set -- $placement
        label=$([ "$1" = "$2" ] && echo "same CPU" || echo "across CPUs")
        g=$(one gold "$1" "$2")
        l=$(one loops "$1" "$2")
        h=$(one hpa "$1" "$2")
        echo "| $label ($r) | $g | $l | $h | $(awk -v a="$g" -v b="$h" 'BEGIN { printf "%.2f×", a / b }') |"
    done
done
