#!/usr/bin/env bash
# TFTP side by side on loopback: Gold, tftpd-hpa and dnsmasq, started here and stopped at the end.
#
#   sudo Benchmarks/tftp/run.sh [--gold PATH] [--runs N] [--clients N] [--size-mib N]
#
# Needs root (dnsmasq serves TFTP only on port 69, so it runs in a throwaway network namespace), and the
# Debian packages atftp, tftpd-hpa, dnsmasq-base, iproute2 and a C compiler. Gold defaults to the release
# binary from `swift build -c release --product gold --scratch-path .build-bench`.
# Prints a Markdown table on stdout; progress and server logs go to stderr / the work directory.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
gold="$repo/.build-bench/release/gold"
runs=3
clients=500
size_mib=64
while [ $# -gt 0 ]; do
    case "$1" in
        --gold) gold=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --clients) clients=$2; shift 2 ;;
        --size-mib) size_mib=$2; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done

need() { command -v "$1" >/dev/null || { echo "missing $1 (Debian package $2)" >&2; exit 2; }; }
need atftp atftp; need /usr/sbin/in.tftpd tftpd-hpa; need dnsmasq dnsmasq-base; need ip iproute2; need cc gcc
[ -x "$gold" ] || { echo "no Gold binary at $gold (build it: swift build -c release --product gold --scratch-path .build-bench)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root: dnsmasq needs port 69 inside a network namespace" >&2; exit 2; }

port_gold=16901
port_hpa=16902
ns="goldbench-$$"
work=$(mktemp -d /tmp/goldbench.XXXXXX)
chmod 755 "$work"
root="$work/root"
mkdir -m 755 "$root"
pids=()

cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[bench] $*" >&2; }

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
log "work directory $work; ${size_mib} MiB file, $runs runs, storm of $clients clients"
head -c $((size_mib << 20)) /dev/urandom >"$root/big.bin"
head -c $((1 << 20)) /dev/urandom >"$root/boot.bin"
echo tiny >"$root/ready.txt"
chmod 644 "$root"/*
cc -O2 -o "$work/tftpstorm" "$here/tftpstorm.c"

# --- servers ---------------------------------------------------------------------------------------
"$gold" tftp serve --root "$root" --listen "127.0.0.1:$port_gold" 2>"$work/gold.log" &
pids+=($!)
/usr/sbin/in.tftpd --foreground --address "127.0.0.1:$port_hpa" --secure "$root" 2>"$work/hpa.log" &
pids+=($!)
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
# --tftp-max: dnsmasq's default of 50 transfers at once would refuse most of the storm.
ip netns exec "$ns" dnsmasq --keep-in-foreground --conf-file=/dev/null --pid-file= --port=0 --user=root \
    --group=root --enable-tftp --tftp-root="$root" --listen-address=127.0.0.1 --bind-interfaces \
    --tftp-max=$((clients + 12)) --log-facility="$work/dnsmasq.log" &
pids+=($!)

# Runs a command for a server: dnsmasq's clients run inside its namespace.
in_ns() { # server cmd...
    if [ "$1" = dnsmasq ]; then shift; ip netns exec "$ns" "$@"; else shift; "$@"; fi
}
port_of() { case "$1" in gold) echo $port_gold ;; hpa) echo $port_hpa ;; dnsmasq) echo 69 ;; esac; }

servers=(gold hpa dnsmasq)
for s in "${servers[@]}"; do
    for _ in $(seq 50); do
        in_ns "$s" atftp -g -r ready.txt -l "$work/ready.$s" 127.0.0.1 "$(port_of "$s")" >/dev/null 2>&1 && break
        sleep 0.2
    done
    cmp -s "$work/ready.$s" "$root/ready.txt" || { echo "server $s did not come up" >&2; exit 1; }
done

# --- single 64 MiB transfers with atftp --------------------------------------------------------------
cases=("blksize 512" "blksize 1468" "blksize 1468, windowsize 8" "blksize 1468, windowsize 16")
declare -A rate
for c in "${!cases[@]}"; do
    opts=()
    IFS=',' read -ra parts <<<"${cases[$c]}"
    for p in "${parts[@]}"; do opts+=(--option "$(echo "$p" | xargs)"); done
    for r in $(seq "$runs"); do
        for s in "${servers[@]}"; do # interleaved, so drift in the machine's load hits every server alike
            out="$work/out.$s"
            rm -f "$out"
            t0=$(date +%s.%N)
            in_ns "$s" atftp "${opts[@]}" -g -r big.bin -l "$out" 127.0.0.1 "$(port_of "$s")" >/dev/null 2>&1 || true
            t1=$(date +%s.%N)
            if cmp -s "$out" "$root/big.bin"; then
                mbps=$(echo "$size_mib * 1048576 / ($t1 - $t0) / 1000000" | bc -l)
            else
                mbps=0; log "$s ${cases[$c]} run $r: downloaded file differs or is missing"
            fi
            rate[$c,$s]="${rate[$c,$s]:-} $mbps"
            log "$(printf '%-8s %-28s run %d: %6.1f MB/s' "$s" "${cases[$c]}" "$r" "$mbps")"
        done
    done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a/b; else print "–" }'; }

# --- boot storm --------------------------------------------------------------------------------------
# Repeated like the single transfers, interleaved; the table shows the run with the median aggregate rate.
declare -A storm
for r in $(seq "$runs"); do
    for s in "${servers[@]}"; do
        line=$(in_ns "$s" "$work/tftpstorm" 127.0.0.1 "$(port_of "$s")" boot.bin "$root/boot.bin" "$clients" 120 || true)
        storm[$s]="${storm[$s]:-}$line"$'\n'
        log "storm $s run $r: $line"
    done
done
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
for s in "${servers[@]}"; do # keep the median run (by MB/s); count failures over all runs
    failed_all=$(echo -n "${storm[$s]}" | sed -n 's/.*failed=\([0-9]*\).*/\1/p' | paste -sd+ | bc)
    median_line=$(echo -n "${storm[$s]}" | awk '{for(i=1;i<=NF;i++) if ($i ~ /^mbps=/) print substr($i,6), $0}' |
        sort -g | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}' | cut -d' ' -f2-)
    storm[$s]="$median_line failedall=$failed_all"
done

# --- report ------------------------------------------------------------------------------------------
echo
echo "| atftp, ${size_mib} MiB, median of $runs | Gold MB/s | tftpd-hpa MB/s | dnsmasq MB/s | Gold / tftpd-hpa | dnsmasq / tftpd-hpa |"
echo "|---|---:|---:|---:|---:|---:|"
for c in "${!cases[@]}"; do
    g=$(echo "${rate[$c,gold]}" | median); h=$(echo "${rate[$c,hpa]}" | median); d=$(echo "${rate[$c,dnsmasq]}" | median)
    printf '| %s | %.1f | %.1f | %.1f | %s | %s |\n' "${cases[$c]}" "$g" "$h" "$d" "$(ratio "$g" "$h")" "$(ratio "$d" "$h")"
done
echo
echo "| boot storm: $clients clients × 1 MiB, blksize 1468, median of $runs | Gold | tftpd-hpa | dnsmasq |"
echo "|---|---:|---:|---:|"
row() { printf '| %s | %s | %s | %s |\n' "$1" "$(field "${storm[gold]}" "$2")" "$(field "${storm[hpa]}" "$2")" "$(field "${storm[dnsmasq]}" "$2")"; }
row "completed" completed
row "failed (median run)" failed
row "failed (all $runs runs)" failedall
row "wall time (s)" wall
row "client retransmissions" retransmits
row "aggregate MB/s" mbps
printf '| aggregate vs tftpd-hpa | %s | 1.00× | %s |\n' \
    "$(ratio "$(field "${storm[gold]}" mbps)" "$(field "${storm[hpa]}" mbps)")" \
    "$(ratio "$(field "${storm[dnsmasq]}" mbps)" "$(field "${storm[hpa]}" mbps)")"
echo
echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), kernel $(uname -r);" \
    "load average (1/5/15 min) $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end."
