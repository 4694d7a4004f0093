/// The netboot environment's `/init` (busybox `sh`) and its udhcpc hook.
public enum InitScript {
    /// `/init`: mounts, loads modules in `/etc/gold/modules.order`, gets a DHCP lease on the boot NIC, checks in,
    /// then waits (or opens a console shell with `gold.debug=1`). It never exits: the kernel panics if init does.
    public static func render(kernelVersion: String) -> String {
        #"""
        #!/bin/sh
        # Gold netboot environment. Never exits: the kernel panics when init does.
        export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=linux
        umask 022
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev 2>/dev/null
        mkdir -p /dev/pts /run /tmp
        mount -t devpts devpts /dev/pts
        mount -t tmpfs -o mode=0755 tmpfs /run
        exec </dev/console >/dev/console 2>&1

        say() { echo "gold-netboot: $*"; }
        arg() {
            for word in $(cat /proc/cmdline); do
                case "$word" in "$1"=*) echo "${word#*=}"; return 0 ;; esac
            done
            return 1
        }
        wait_forever() { while :; do sleep 3600; done; }
        debug_shell() {
            [ "$(arg gold.debug)" = 1 ] || return 0
            say "gold.debug=1: shell on the console"
            while :; do setsid cttyhack sh -l; done
        }
        hold() {
            say "error: $*"
            say "holding here; fix the cause and reboot the machine"
            debug_shell
            wait_forever
        }

        kver="\#(kernelVersion)"
        say "starting on kernel $(uname -r)"
        [ "$(uname -r)" = "$kver" ] || say "warning: modules are for kernel $kver, running $(uname -r)"
        echo 4 > /proc/sys/kernel/printk

        # Modules, each after those it needs (order generated from modules.dep at build time).
        while read -r module; do
            [ -n "$module" ] || continue
            if ! out=$(insmod "/lib/modules/$kver/$module" 2>&1); then
                case "$out" in
                    *"File exists"*) ;;
                    *"No such device"*) say "module $module: no such hardware here, skipped" ;;
                    *) say "error: module $module: $out" ;;
                esac
            fi
        done < /etc/gold/modules.order
        uptime() { cut -d' ' -f1 /proc/uptime; }
        say "modules loaded (uptime $(uptime) s)"

        director=$(arg gold.director) || hold "no gold.director= on the kernel command line"
        machine=$(arg gold.machine) || hold "no gold.machine= on the kernel command line"
        arg gold.token >/dev/null || hold "no gold.token= on the kernel command line"
        mode=$(arg gold.mode) || mode=discovery
        hostname "$machine"

        # The NIC that booted (iPXE's BOOTIF=01-aa-bb-...), else every NIC with a device.
        bootif=$(arg BOOTIF | tr 'A-F-' 'a-f:')
        bootif=${bootif#01:}
        nics() {
            for dir in /sys/class/net/*; do
                name=${dir##*/}
                [ -e "$dir/device" ] || continue
                if [ -n "$bootif" ] && [ "$1" != all ]; then
                    [ "$(cat "$dir/address")" = "$bootif" ] || continue
                fi
                echo "$name"
            done
        }
        tries=0
        while [ -z "$(nics)" ] && [ $tries -lt 100 ]; do sleep 0.1; tries=$((tries + 1)); done
        scope=boot
        if [ -z "$(nics)" ]; then
            [ -n "$bootif" ] && say "warning: no NIC has the boot MAC $bootif; trying every NIC"
            scope=all
        fi
        lease() {
            ip link set "$1" up
            tries=0
            while [ "$(cat "/sys/class/net/$1/carrier" 2>/dev/null)" != 1 ] && [ $tries -lt 50 ]; do
                sleep 0.1; tries=$((tries + 1))
            done
            [ "$(cat "/sys/class/net/$1/carrier" 2>/dev/null)" = 1 ] || return 1
            udhcpc -i "$1" -f -q -n -t 5 -T 2 -s /etc/gold/udhcpc.script >"/run/udhcpc.$1.log" 2>&1
        }
        nic=
        while [ -z "$nic" ]; do
            for candidate in $(nics $scope); do
                if lease "$candidate"; then nic=$candidate; break; fi
            done
            [ -n "$nic" ] && break
            say "error: no DHCP lease on: $(nics $scope | tr '\n' ' ')(retrying in 5 s)"
            sleep 5
        done
        say "network up $(cat /run/gold/address 2>/dev/null) on $nic"

        say "agent starting (machine $machine, mode $mode, director $director)"
        debug_shell &
        # Checks in with the one-time enrolment token (retrying), then runs the director's commands until a reboot.
        until gold-agent netboot; do
            say "error: the agent stopped; restarting it in 5 s"
            sleep 5
        done
        wait_forever

        """#
    }

    /// busybox `udhcpc`'s hook (`-s`): applies the lease. `$mask` is a prefix length in busybox.
    public static let udhcpcHook = #"""
        #!/bin/sh
        # udhcpc hook: $1 is the event; $interface, $ip, $mask, $router, $dns and $domain come from the lease.
        case "$1" in
        deconfig)
            ip -4 addr flush dev "$interface"
            ip link set "$interface" up
            ;;
        bound|renew)
            ip -4 addr flush dev "$interface"
            ip addr add "$ip/${mask:-24}" dev "$interface"
            for r in $router; do ip route add default via "$r" dev "$interface" && break; done
            : > /etc/resolv.conf
            [ -n "$domain" ] && echo "search $domain" >> /etc/resolv.conf
            for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
            mkdir -p /run/gold
            echo "$ip/${mask:-24}" > /run/gold/address
            ;;
        esac
        exit 0

        """#
}
