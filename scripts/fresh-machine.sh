#!/bin/sh
# The README's promise, checked on a machine that has nothing: a throwaway Debian 12 root (mmdebstrap, minbase) in
# which scripts/setup.sh runs as a newcomer would run it, then `gold doctor --role all` inside it must report nothing
# missing. A package setup.sh forgets (GOLD_SETUP_SKIP=kmod shows it) fails this check by name.
#
#   scripts/fresh-machine.sh [GOLD_BINARY]      (root; default .build/debug/gold; about 5 minutes, most of it apt)
#
# Swift is preinstalled on a machine of this kind (/opt/swift), so it is bind-mounted read-only, as the repository
# is; the gold binary is copied in. Everything else comes from setup.sh inside the root.
set -eu
cd "$(dirname "$0")/.."
repo=$PWD
gold=$(readlink -f "${1:-.build/debug/gold}")
say() { printf 'fresh-machine: %s\n' "$*"; }
die() { printf 'fresh-machine: error: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap, chroot and mounts)"
[ -x "$gold" ] || die "no gold binary at $gold (swift build --product gold)"
command -v mmdebstrap >/dev/null || die "mmdebstrap is missing (scripts/setup.sh installs it)"

root=$(mktemp -d /var/tmp/gold-fresh.XXXXXX)
mounted=""
cleanup() {
    for m in $mounted; do umount -l "$m" 2>/dev/null || true; done
    rm -rf --one-file-system "$root"
}
trap cleanup EXIT INT TERM
bind() { # bind SOURCE TARGET [ro]
    mkdir -p "$2"
    mount --bind "$1" "$2"
    mounted="$2 $mounted"
    [ "${3:-}" = ro ] && mount -o remount,ro,bind "$2"
    return 0
}

started=$(date +%s)
say "mmdebstrap --variant=minbase bookworm into $root"
mmdebstrap --quiet --variant=minbase bookworm "$root" http://deb.debian.org/debian
say "root ready in $(( $(date +%s) - started )) s: $(du -sm "$root" | cut -f1) MB, $(chroot "$root" dpkg-query -W | wc -l) packages"

cp /etc/resolv.conf "$root/etc/resolv.conf"
# A machine of this kind trusts the CAs its network needs (here a TLS proxy's, for PyPI): the root gets the host's
# local CA certificates, which ca-certificates (installed by setup.sh) folds into the bundle pip reads.
mkdir -p "$root/etc/ssl/certs" "$root/usr/local/share/ca-certificates"
[ -r /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
cp -r /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
mount -t proc proc "$root/proc"; mounted="$root/proc $mounted"
bind /dev "$root/dev"
bind /opt/swift "$root/opt/swift" ro
[ -d /opt/wheels ] && bind /opt/wheels "$root/opt/wheels" ro
bind "$repo" "$root/gold" ro
mkdir -p "$root/usr/local/bin"
cp "$gold" "$root/usr/local/bin/gold"

in_root() {
    chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/swift/usr/bin \
        HOME=/root LANG=C.UTF-8 PIP_CERT="${PIP_CERT:-}" PIP_FIND_LINKS="${PIP_FIND_LINKS:-}" \
        PIP_DEFAULT_TIMEOUT="${PIP_DEFAULT_TIMEOUT:-60}" PIP_DISABLE_PIP_VERSION_CHECK=1 \
        GOLD_SETUP_SKIP="${GOLD_SETUP_SKIP:-}" "$@"
}

setup_started=$(date +%s)
say "scripts/setup.sh inside the root"
in_root /gold/scripts/setup.sh
say "setup took $(( $(date +%s) - setup_started )) s"

say "gold doctor --role all inside the root"
if in_root gold doctor --role all; then
    say "nothing missing on a fresh Debian 12 root after scripts/setup.sh ($(( $(date +%s) - started )) s in all)"
else
    die "scripts/setup.sh left something missing on a fresh Debian 12 root (above)"
fi
