#!/bin/sh
# Gold's demo on a fresh Debian 12 machine (as root): install what is needed, build Gold, start it with the
# sample fleet, and show what it knows. `scripts/demo.sh stop` stops it.
set -eu
cd "$(dirname "$0")/.."
DATA="${GOLD_DEMO_DIR:-$PWD/data/demo}"
PORT="${GOLD_DEMO_PORT:-8080}"
export GOLD_DIRECTOR="http://127.0.0.1:$PORT" GOLD_TOKEN_FILE="$DATA/admin.token"
gold=.build/debug/gold

if [ "${1:-}" = stop ]; then
    if [ -f "$DATA/gold.pid" ] && kill "$(cat "$DATA/gold.pid")" 2>/dev/null; then
        echo "demo: stopped Gold"; rm -f "$DATA/gold.pid"
    else
        echo "demo: Gold is not running"
    fi
    exit 0
fi

scripts/setup.sh
echo "demo: building Gold (a few minutes the first time)"
swift build --product gold

$gold init --data-dir "$DATA"
sed -i "s/127.0.0.1:[0-9]*/127.0.0.1:$PORT/" "$DATA/gold.yaml"
if [ -f "$DATA/gold.pid" ] && kill -0 "$(cat "$DATA/gold.pid")" 2>/dev/null; then
    echo "demo: Gold is already running (pid $(cat "$DATA/gold.pid"))"
else
    $gold serve --config "$DATA/gold.yaml" >"$DATA/gold.log" 2>&1 &
    echo $! >"$DATA/gold.pid"
    i=0
    until $gold machine list >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -lt 100 ] || { cat "$DATA/gold.log"; exit 1; }; sleep 0.1
    done
    echo "demo: Gold is running (pid $(cat "$DATA/gold.pid"), log $DATA/gold.log)"
fi
$gold fleet apply examples/fleet.yaml
echo; $gold machine list
echo; $gold events --limit 20
cat <<MSG

Gold keeps running. Try:
  export GOLD_DIRECTOR=$GOLD_DIRECTOR GOLD_TOKEN_FILE=$GOLD_TOKEN_FILE
  $gold machine show lab-uefi-01
  $gold events --follow
Stop it with: scripts/demo.sh stop
MSG
