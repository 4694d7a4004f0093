import Foundation
import GoldCore

@testable import GoldImage

enum Fixtures {
    static let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGoldTestKeyGoldTestKeyGoldTestKeyGold alice@gold"

    static func machine(_ name: String, boot: BootMode, diskSize: String = "64MiB") -> MachineSpec {
        var partitions: [PartitionSpec] = []
        if boot == .uefi {
            partitions.append(
                PartitionSpec(size: ByteSize("16MiB"), filesystem: .vfat, mount: "/boot/efi", label: "ESP"))
        }
        partitions.append(PartitionSpec(size: nil, filesystem: .ext4, mount: "/", label: "root"))
        return MachineSpec(
            name: name, macs: [MACAddress("52:54:00:12:34:56")!], boot: boot,
            disks: [DiskSpec(device: "/dev/vda", size: ByteSize(diskSize)!, partitions: partitions)],
            network: NetworkSpec(
                hostname: "\(name).lab", mode: .static, address: "10.0.0.5/24", gateway: "10.0.0.1", dns: ["10.0.0.1"]),
            users: [
                UserSpec(
                    name: "alice", groups: ["wheel"], shell: "/bin/sh", keys: [key], sudo: "ALL=(ALL) NOPASSWD: ALL")
            ])
    }

    /// A tiny root filesystem: busybox-static, `/bin/sh`, and `/sbin/init` running `initScript`.
    static func busyboxRoot(at dir: URL, initScript: String = "#!/bin/sh\necho hello\n") throws {
        try requireTool("/bin/busybox", package: "busybox-static")
        for sub in ["bin", "sbin", "etc", "usr/bin", "lib/modules"] {
            try FileManager.default.createDirectory(
                at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try sh("cp /bin/busybox '\(dir.path)/bin/busybox' && ln -sf busybox '\(dir.path)/bin/sh'")
        try Data(initScript.utf8).write(to: dir.appendingPathComponent("sbin/init"))
        try sh("chmod 755 '\(dir.path)/sbin/init'")
        try Data("root:x:0:0:root:/root:/bin/sh\n".utf8).write(to: dir.appendingPathComponent("etc/passwd"))
        try Data("root:x:0:\nwheel:x:10:\n".utf8).write(to: dir.appendingPathComponent("etc/group"))
    }

    /// A kernel input with fake (but fixed) kernel and initrd bytes, for builds that never boot.
    static func fakeKernel(at dir: URL, version: String = "6.1.0-gold-test") throws -> KernelInput {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var bytes = [UInt8](repeating: 0, count: 300_000)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 13) }
        try Data(bytes).write(to: dir.appendingPathComponent("vmlinuz-\(version)"))
        try Data(bytes.reversed()).write(to: dir.appendingPathComponent("initrd.img-\(version)"))
        return KernelInput(directory: dir)
    }

    static func request(_ machine: MachineSpec, base: URL, kernel: KernelInput, binaries: [ImageFile] = [])
        -> ImageBuildRequest
    {
        ImageBuildRequest(machine: machine, base: .directory(base), kernel: kernel, binaries: binaries)
    }
}
