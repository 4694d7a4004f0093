import Foundation
import GoldCore
import GoldImage

/// The benchmark's machine: UEFI, one 2 GiB disk (64 MiB ESP, ext4 root), one sudo user with a key, ssh enabled,
/// one binary. The plain pipeline (plain-pipeline.sh) applies the same things.
enum BenchMachine {
    static let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGoldTestKeyGoldTestKeyGoldTestKeyGold ops@gold"

    static func machine(_ name: String) -> MachineSpec {
        MachineSpec(
            name: name, macs: [MACAddress("52:54:00:00:00:01")!], boot: .uefi,
            disks: [
                DiskSpec(
                    device: "/dev/vda", size: ByteSize("2GiB")!,
                    partitions: [
                        PartitionSpec(size: ByteSize("64MiB"), filesystem: .vfat, mount: "/boot/efi", label: "ESP"),
                        PartitionSpec(size: nil, filesystem: .ext4, mount: "/", label: "root"),
                    ])
            ],
            network: NetworkSpec(hostname: name, mode: .dhcp),
            users: [UserSpec(name: "ops", groups: ["sudo"], keys: [key], sudo: "ALL=(ALL) NOPASSWD: ALL")],
            services: ["ssh"])
    }

    static func request(_ name: String, recipe: DebianRecipe, binary: String = "v1") -> ImageBuildRequest {
        ImageBuildRequest(
            machine: machine(name), base: .debian(recipe),
            binaries: [ImageFile(path: "/usr/local/bin/app", mode: 0o755, source: .bytes(Data(binary.utf8)))])
    }
}
