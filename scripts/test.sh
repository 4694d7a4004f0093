#!/bin/sh
# Run Gold's whole test suite on a fresh Debian 12 machine: installs what the tests need, builds, tests.
# Run as root: the lab and network-boot tests create network namespaces, bridges and QEMU machines.
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
# Gold's code keeps the repo's own style (.swift-format): the toolchain's swift-format, lint mode, every rule a failure.
# `swift format format -i -r Sources Tests Benchmarks Fuzz/Sources` fixes most of what it reports.
swift format lint --strict --parallel -r Sources Tests Benchmarks Fuzz/Sources
# Gold's own code builds without warnings, and stays so: a warning in Sources/, Tests/ or Benchmarks/ fails the run
# (a clean clone compiles every file, so every warning shows).
build_log=$(mktemp "${TMPDIR:-/tmp}/gold-build.XXXXXX")
{ swift build --build-tests 2>&1; echo $? >"$build_log.rc"; } | tee "$build_log"
rc=$(cat "$build_log.rc"); rm -f "$build_log.rc"
[ "$rc" = 0 ] || { rm -f "$build_log"; exit "$rc"; }
# The netboot environment's tests boot the statically linked agent.
if ! GOLD_AGENT_BINARY=$(scripts/build-agent.sh debug 2>>"$build_log"); then
    cat "$build_log"
    exit 1
fi
export GOLD_AGENT_BINARY
warnings=$(grep -E "^$PWD/(Sources|Tests|Benchmarks)/[^:]+:[0-9]+:[0-9]+: warning:" "$build_log" | sort -u || true)
rm -f "$build_log"
if [ -n "$warnings" ]; then
    echo "test.sh: Gold's own code built with warnings:"
    echo "$warnings"
    exit 1
fi
# Everything the roles, the lab and the tests call is on this host (setup.sh installed it from the same list).
.build/debug/gold doctor --role all
if [ $# -gt 0 ]; then
    exec swift test --skip-build "$@"
fi
# Everything but the lab end-to-end test and the iPXE DHCP tests, in parallel; then each of those alone (they boot
# QEMU machines under TCG and want the CPUs); then a brief run of the TFTP and DHCP parsers' fuzzers (a crash fails the run).
#
# Each stage has a time limit far above its usual time (unit ~3-4 min, lab 25-46 min: 46 with a cold ccache and a failing drill), so a test that hangs ends the run
# with the names of the tests that started and never finished instead of running into CI's own limit. The output goes
# to a file that is followed live: a process a test leaves behind with the output open cannot hold the run.
stage() {
    limit=$1
    shift
    log=$(mktemp "${TMPDIR:-/tmp}/gold-test-stage.XXXXXX")
    timeout -k 60 "$limit" "$@" >"$log" 2>&1 &
    pid=$!
    tail -n +1 -f --pid="$pid" "$log"
    rc=0
    wait "$pid" || rc=$?
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "test.sh: '$*' did not finish within $limit s; tests that started and did not finish:"
        awk -f scripts/unfinished-tests.awk "$log"
    fi
    # SwiftPM exits 0 when --filter matches nothing: a stage that selects tests by name must have run some.
    case " $* " in
    *" --filter "*)
        if [ "$rc" -eq 0 ] && ! grep -Eq "Test run with [1-9][0-9]* tests?" "$log"; then
            echo "test.sh: '$*' ran no tests (the filter matched nothing)"
            rc=1
        fi
        ;;
    esac
    rm -f "$log"
    return "$rc"
}
stage "${GOLD_UNIT_LIMIT:-1500}" swift test --skip-build --skip LabProvisionTests --skip QEMUIPXETests --skip HostileInputTests
# The hostile-input suite floods a real gold serve over HTTP, TFTP and DHCP: alone, so its load slows nothing else.
stage 900 swift test --skip-build --filter HostileInputTests
# A fresh Debian 12 root: setup.sh inside it, then gold doctor finds nothing missing (the README's first command).
stage 1500 scripts/fresh-machine.sh .build/debug/gold
# iPXE's DHCP discovery waits for a proxy offer on its own clock: under TCG on a machine busy with the parallel
# stage it gave up before Gold's offer arrived (twice in CI). Its tests get the CPUs to themselves.
stage "${GOLD_UNIT_LIMIT:-1500}" swift test --skip-build --filter QEMUIPXETests
stage "${GOLD_LAB_LIMIT:-3600}" swift test --skip-build --filter LabProvisionTests
# The fuzz package builds swift-crypto and Yams too now (fuzz-yaml), several minutes from a clean clone.
stage 1500 Fuzz/run.sh "${GOLD_FUZZ_RUNS:-100000}"
