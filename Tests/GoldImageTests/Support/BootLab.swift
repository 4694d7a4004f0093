import Foundation
import GoldCore
import GoldSpawn

@testable import GoldImage

/// Real boots under QEMU (TCG): Debian's kernel, a busybox initramfs that loads virtio/ext4/vfat modules and
/// switches to the image's root, whose /sbin/init prints what the test checks and powers off.
enum BootLab {
    static let kernelCache = URL(fileURLWithPath: "/var/cache/gold/kernel")
    static let modules = [
        "crypto/crc32c_generic", "drivers/virtio/virtio_ring", "drivers/virtio/virtio",
        "drivers/virtio/virtio_pci_modern_dev",
        "drivers/virtio/virtio_pci_legacy_dev", "drivers/virtio/virtio_pci", "drivers/block/virtio_blk", "lib/crc16",
        "fs/mbcache", "fs/jbd2/jbd2", "fs/ext4/ext4", "fs/fat/fat", "fs/fat/vfat", "fs/nls/nls_cp437",
        "fs/nls/nls_iso8859-1",
        "fs/nls/nls_ascii",
    ]

    static let rootInit = """
        #!/bin/sh
        /bin/busybox mount -t proc proc /proc
        /bin/busybox mount -o remount,rw /
        /bin/busybox --install -s /bin
        mount -t sysfs sysfs /sys
        echo "GOLD-HOSTNAME: $(cat /etc/hostname)"
        echo "GOLD-KEY: $(cat /home/alice/.ssh/authorized_keys)"
        echo "GOLD-CMDLINE: $(cat /proc/cmdline)"
        if mount -a; then echo "GOLD-MOUNT-A: ok"; else echo "GOLD-MOUNT-A: failed"; fi
        sed 's/^/GOLD-MOUNT: /' /proc/mounts
        for f in /boot/efi/EFI/gold/grubenv /boot/grub/grubenv; do
          if [ -f $f ]; then grep -v '^#' $f | sed "s|^|GOLD-ENV: |"; fi
        done
        echo GOLD-DONE
        sync
        poweroff -f

        """

    static let initramfsInit = """
        #!/bin/busybox sh
        /bin/busybox mkdir -p /proc /sys /dev /newroot
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev
        for m in MODULES; do insmod /modules/$m.ko || echo "GOLD-INITRAMFS: insmod $m failed"; done
        root=""
        for arg in $(cat /proc/cmdline); do case $arg in root=*) root=${arg#root=};; esac; done
        i=0
        while [ $i -lt 100 ]; do dev=$(findfs "$root" 2>/dev/null) && break; sleep 0.1; i=$((i+1)); done
        echo "GOLD-INITRAMFS: $root is $dev"
        mount -t ext4 -o ro "$dev" /newroot || { echo "GOLD-FAIL: cannot mount $root"; poweroff -f; }
        mount --move /dev /newroot/dev
        umount /proc /sys
        exec switch_root /newroot /sbin/init

        """

    /// A kernel input: Debian's vmlinuz from the setup script's cache and a busybox initramfs.
    static func kernelInput(at dir: URL) throws -> (KernelInput, String) {
        let boot = kernelCache.appendingPathComponent("boot")
        guard
            let vmlinuz = (try? FileManager.default.contentsOfDirectory(atPath: boot.path))?.first(where: {
                $0.hasPrefix("vmlinuz-")
            })
        else {
            throw ShellError(
                command: "kernel", status: 1,
                stderr: "no Debian kernel in \(boot.path): run scripts/setup.sh (unpacks linux-image-amd64 there)")
        }
        let version = String(vmlinuz.dropFirst("vmlinuz-".count))
        try requireTool("/usr/bin/cpio", package: "cpio")
        let initrd = dir.appendingPathComponent("initramfs")
        try FileManager.default.createDirectory(
            at: initrd.appendingPathComponent("modules"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            at: initrd.appendingPathComponent("bin"), withIntermediateDirectories: true)
        try sh("cp /bin/busybox '\(initrd.path)/bin/busybox'")
        let moduleDir = kernelCache.appendingPathComponent("lib/modules/\(version)/kernel")
        for module in modules {
            try sh("cp '\(moduleDir.path)/\(module).ko' '\(initrd.path)/modules/'")
        }
        let names = modules.map { String($0.split(separator: "/").last!) }.joined(separator: " ")
        try Data(initramfsInit.replacingOccurrences(of: "MODULES", with: names).utf8).write(
            to: initrd.appendingPathComponent("init"))
        let out = dir.appendingPathComponent("kernel")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try sh(
            "chmod 755 '\(initrd.path)/init' && cd '\(initrd.path)' && find . | sort | cpio -o -H newc --quiet --reproducible > '\(out.path)/initrd.img-\(version)'"
        )
        try sh("cp '\(boot.path)/\(vmlinuz)' '\(out.path)/'")
        return (KernelInput(directory: out), version)
    }

    struct Boot: Sendable {
        var console: String
        var secondsToKernel: Double?
        var secondsToDone: Double?
        var exitStatus: Int32 = -1
        var elapsed: Double = 0
    }

    /// Boots `disk` and returns the serial console once the guest powered off (or at the deadline).
    /// With `tftp`, the VM gets a NIC on QEMU user networking (no option ROM, so only software on the disk can use
    /// it) whose DHCP offers `probe.ipxe` from that directory; its traffic goes to `work/net.pcap`, which is then
    /// also searched for `marker`.
    /// The boot waits on a thread of its own: a test polling the console for minutes on the cooperative pool (two
    /// boot modes in parallel held both of a 2-core machine's threads) stalled every other test in the process.
    static func boot(
        disk: URL, mode: BootMode, work: URL, until marker: String = "GOLD-DONE", deadline: Double = 400,
        tftp: URL? = nil
    ) async throws -> Boot {
        try await Blocking.run {
            try bootBlocking(disk: disk, mode: mode, work: work, until: marker, deadline: deadline, tftp: tftp)
        }
    }

    private static func bootBlocking(
        disk: URL, mode: BootMode, work: URL, until marker: String, deadline: Double, tftp: URL?
    ) throws -> Boot {
        try requireTool("/usr/bin/qemu-system-x86_64", package: "qemu-system-x86")
        let log = work.appendingPathComponent("console.log")
        var args = [
            "-machine", "q35", "-accel", "tcg", "-m", "512", "-display", "none", "-monitor", "none", "-no-reboot",
            "-serial", "file:\(log.path)", "-drive", "file=\(disk.path),format=raw,if=virtio",
        ]
        let pcap = work.appendingPathComponent("net.pcap")
        if let tftp {
            args += [
                "-netdev", "user,id=n0,tftp=\(tftp.path),bootfile=probe.ipxe", "-device",
                "virtio-net-pci,netdev=n0,romfile=", "-object", "filter-dump,id=d0,netdev=n0,file=\(pcap.path)",
            ]
        } else {
            args += ["-net", "none"]
        }
        if mode == .uefi {
            try requireTool("/usr/share/OVMF/OVMF_CODE_4M.fd", package: "ovmf")
            let vars = work.appendingPathComponent("OVMF_VARS.fd")
            try? FileManager.default.removeItem(at: vars)
            try FileManager.default.copyItem(atPath: "/usr/share/OVMF/OVMF_VARS_4M.fd", toPath: vars.path)
            args += [
                "-drive", "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
                "-drive", "if=pflash,format=raw,file=\(vars.path)",
            ]
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/qemu-system-x86_64")
        process.arguments = args
        process.standardOutput = FileHandle.nullDevice
        let errors = work.appendingPathComponent("qemu.stderr")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errors)
        let started = Date()
        try process.run()
        var boot = Boot(console: "")
        while process.isRunning && Date().timeIntervalSince(started) < deadline {
            Thread.sleep(forTimeInterval: 0.25)
            let text = String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self)
            if boot.secondsToKernel == nil, text.contains("Linux version") {
                boot.secondsToKernel = Date().timeIntervalSince(started)
            }
            let traffic = tftp == nil ? "" : String(decoding: (try? Data(contentsOf: pcap)) ?? Data(), as: UTF8.self)
            if boot.secondsToDone == nil, text.contains(marker) || traffic.contains(marker) {
                boot.secondsToDone = Date().timeIntervalSince(started)
                if marker != "GOLD-DONE" { break }  // a full system does not power itself off
            }
        }
        if process.isRunning {
            // QEMU started from a Swift process may not act on SIGTERM (seen here): SIGKILL after a grace period.
            process.terminate()
            let grace = Date()
            while process.isRunning && Date().timeIntervalSince(grace) < 5 { Thread.sleep(forTimeInterval: 0.1) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        boot.exitStatus = process.terminationStatus
        boot.elapsed = Date().timeIntervalSince(started)
        boot.console = String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self)
        boot.console += String(decoding: (try? Data(contentsOf: errors)) ?? Data(), as: UTF8.self)
        return boot
    }
}
