#!/bin/sh
# Install everything Gold's demo and tests need on a fresh Debian 12 machine. Idempotent: a second run that
# finds everything present changes nothing and says so. Run as root.
#
#   scripts/setup.sh            install packages and fetch the netboot kernel
#   GOLD_CACHE=/path scripts/setup.sh   put the kernel somewhere else (default /var/cache/gold)
set -eu

CACHE="${GOLD_CACHE:-/var/cache/gold}"
KERNEL_DIR="$CACHE/kernel"

# The Debian packages: every `package: "..."` in Sources/GoldDoctor/Requirements.swift, the one list of what Gold
# needs by role (`gold doctor` checks the same list). GOLD_SETUP_SKIP="pkg ..." leaves packages out (to show that the
# fresh-machine check notices).
REQUIREMENTS="$(dirname "$0")/../Sources/GoldDoctor/Requirements.swift"
[ -r "$REQUIREMENTS" ] || { printf 'setup: error: cannot read %s\n' "$REQUIREMENTS" >&2; exit 1; }
PACKAGES=$(sed -n 's/.*package: "\([a-z0-9][a-z0-9.+-]*\)".*/\1/p' "$REQUIREMENTS" | sort -u)
[ -n "$PACKAGES" ] || { printf 'setup: error: no packages found in %s\n' "$REQUIREMENTS" >&2; exit 1; }
for skip in ${GOLD_SETUP_SKIP:-}; do
    PACKAGES=$(printf '%s\n' $PACKAGES | grep -vx "$skip")
done
# atftpd is deliberately absent: it conflicts with tftpd-hpa (both ship /usr/sbin/in.tftpd); the tests need only
# the atftp client.

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (apt-get and /var/cache need it)"
[ -r /etc/debian_version ] || die "this script expects Debian 12 (no /etc/debian_version)"

# Another apt-get (or dpkg) may be running; wait for its lock rather than fail half-way.
wait_for_apt() {
    command -v fuser >/dev/null 2>&1 || return 0 # psmisc absent: apt-get itself will report a held lock
    waited=0
    while fuser /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock >/dev/null 2>&1; do
        [ "$waited" = 0 ] && say "waiting for another apt-get/dpkg to finish"
        waited=$((waited + 1))
        [ "$waited" -gt 1800 ] && die "apt/dpkg lock still held after 30 minutes"
        sleep 1
    done
}

installed() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^ii'; }

missing=""
for p in $PACKAGES; do
    installed "$p" || missing="$missing $p"
done

updated=no
if [ -n "$missing" ]; then
    wait_for_apt
    say "apt-get update"
    apt-get update -qq
    updated=yes
    say "installing:$missing"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
else
    say "all $(echo $PACKAGES | wc -w) Debian packages already installed"
fi

# The netboot environment's kernel: Debian's, unpacked (not installed on this host).
if ls "$KERNEL_DIR"/boot/vmlinuz-* >/dev/null 2>&1; then
    say "kernel already unpacked: $(ls "$KERNEL_DIR"/boot/vmlinuz-* | head -n 1)"
else
    if [ "$updated" = no ]; then
        wait_for_apt
        say "apt-get update"
        apt-get update -qq
    fi
    kpkg=$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n 1)
    [ -n "$kpkg" ] || die "could not resolve linux-image-amd64 to a linux-image-6.1.0-*-amd64 package"
    say "fetching $kpkg into $KERNEL_DIR"
    tmp=$(mktemp -d)
    chmod 755 "$tmp" # apt-get download runs as _apt and must write here
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && apt-get download -qq "$kpkg")
    mkdir -p "$KERNEL_DIR.partial"
    dpkg-deb -x "$tmp"/"$kpkg"_*.deb "$KERNEL_DIR.partial"
    rm -rf "$KERNEL_DIR"
    mv "$KERNEL_DIR.partial" "$KERNEL_DIR"
    echo "$kpkg" > "$KERNEL_DIR/PACKAGE"
    say "kernel: $(ls "$KERNEL_DIR"/boot/vmlinuz-*)"
fi

# A Redfish BMC simulator for the Redfish driver's tests: sushy-tools is on PyPI only (not in Debian).
SUSHY_VENV="${GOLD_SUSHY_VENV:-/opt/gold/sushy}"
if [ -x "$SUSHY_VENV/bin/sushy-emulator" ]; then
    say "sushy-emulator already installed in $SUSHY_VENV"
else
    say "installing sushy-tools (Redfish simulator) into $SUSHY_VENV"
    /usr/bin/python3 -m venv "$SUSHY_VENV"
    "$SUSHY_VENV/bin/pip" install -q sushy-tools
fi

# The OpenAPI document's validator (openapi-spec-validator) and schemathesis, from PyPI, for the API's tests.
API_VENV="${GOLD_API_TOOLS_VENV:-/opt/gold/apitools}"
if [ -x "$API_VENV/bin/openapi-spec-validator" ] && [ -x "$API_VENV/bin/schemathesis" ]; then
    say "openapi-spec-validator and schemathesis already installed in $API_VENV"
else
    say "installing openapi-spec-validator and schemathesis into $API_VENV"
    /usr/bin/python3 -m venv "$API_VENV"
    "$API_VENV/bin/pip" install -q openapi-spec-validator schemathesis
fi

# Swift is preinstalled (/opt/swift); this script does not install it.
if command -v swift >/dev/null 2>&1; then
    say "$(swift --version 2>&1 | head -n 1)"
elif [ -x /opt/swift/usr/bin/swift ]; then
    say "$(/opt/swift/usr/bin/swift --version 2>&1 | head -n 1) (not on PATH: add /opt/swift/usr/bin)"
else
    die "swift not found (expected on PATH or at /opt/swift/usr/bin/swift)"
fi

say "done"
