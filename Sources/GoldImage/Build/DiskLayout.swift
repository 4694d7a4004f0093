import Foundation
import GoldCore

/// One partition placed on a disk: where it starts, what it holds, which identifiers it gets.
public struct PlannedPartition: Hashable, Sendable {
    /// 1-based GPT partition number.
    public var number: Int
    public var startSector: UInt64
    public var sectors: UInt64
    /// GPT partition type GUID.
    public var typeGUID: String
    /// GPT unique partition GUID.
    public var partUUID: String
    /// The filesystem UUID (`UUID=` in fstab): RFC 4122 form for ext4/swap, `XXXX-XXXX` for vfat.
    public var fsUUID: String?
    public var filesystem: Filesystem
    public var mount: String?
    public var options: String?
    public var label: String?
    /// True for GRUB's BIOS boot partition (core.img lives here).
    public var isBIOSBoot: Bool
    /// True for the EFI system partition.
    public var isESP: Bool

    public var offset: UInt64 { startSector * 512 }
    public var size: UInt64 { sectors * 512 }
}

/// A disk of the machine with every partition placed.
public struct DiskPlan: Hashable, Sendable {
    public var index: Int
    public var device: String?
    public var size: UInt64
    public var diskGUID: String
    public var partitions: [PlannedPartition]

    /// `sfdisk` input for the GPT (sfdisk(8) "Input format").
    public var sfdiskScript: String {
        var lines = [
            "label: gpt", "label-id: \(diskGUID.uppercased())", "unit: sectors", "first-lba: 2048", "sector-size: 512",
            "",
        ]
        for p in partitions {
            var fields = [
                "start=\(p.startSector)", "size=\(p.sectors)", "type=\(p.typeGUID)", "uuid=\(p.partUUID.uppercased())",
            ]
            if let label = p.label { fields.append("name=\"\(label)\"") }
            if p.isBIOSBoot { fields.append("attrs=\"LegacyBIOSBootable\"") }
            lines.append(fields.joined(separator: ", "))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Places the partitions of a machine's disks: 1 MiB alignment, GPT on every disk.
///
/// BIOS machines need GRUB's BIOS boot partition on the disk that holds `/`: a `fs: none` partition labelled
/// `bios-boot` in the layout is used; when there is none, a 1 MiB one is put first (GRUB's core.img, ~40 KiB,
/// needs far less). UEFI machines need a vfat partition mounted at `/boot/efi` or `/efi` on that disk.
public enum DiskLayout {
    public static let alignment: UInt64 = 2048  // sectors (1 MiB)
    /// Sectors GPT keeps at the end of the disk: the backup table (32) and header (1), per UEFI 2.10 §5.3.
    static let gptTail: UInt64 = 33

    public enum TypeGUID {
        public static let esp = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
        public static let biosBoot = "21686148-6449-6E6F-744E-656564454649"
        public static let linuxRootAMD64 = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"
        public static let linuxData = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
        public static let linuxSwap = "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"
        public static let basicData = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"
    }

    public static func plan(machine: MachineSpec) throws -> [DiskPlan] {
        guard !machine.disks.isEmpty else {
            throw GoldError(.invalidInput, "machine has no disks to build an image for", at: "\(machine.name).disks")
        }
        let rootDisk = machine.disks.firstIndex { $0.partitions.contains { $0.mount == "/" } }
        guard let rootDisk else {
            throw GoldError(.invalidInput, "no partition is mounted at / ", at: "\(machine.name).disks")
        }
        return try machine.disks.enumerated().map { index, disk in
            try plan(disk: disk, index: index, machine: machine.name, boot: machine.boot, isBootDisk: index == rootDisk)
        }
    }

    static func plan(disk: DiskSpec, index: Int, machine: String, boot: BootMode, isBootDisk: Bool) throws -> DiskPlan {
        let location = "\(machine).disks[\(index)]"
        guard disk.size.bytes % 512 == 0, disk.size.bytes >= 4 << 20 else {
            throw GoldError(
                .invalidInput, "disk size \(disk.size) must be a multiple of 512 bytes and at least 4MiB", at: location)
        }
        var specs = disk.partitions
        var biosBootIndex = specs.firstIndex { $0.filesystem == .none && $0.label?.lowercased() == "bios-boot" }
        if boot == .bios, isBootDisk, biosBootIndex == nil {
            specs.insert(PartitionSpec(size: ByteSize(bytes: 1 << 20), filesystem: .none, label: "bios-boot"), at: 0)
            biosBootIndex = 0
        }
        if boot == .uefi, isBootDisk,
            !specs.contains(where: { $0.filesystem == .vfat && ["/boot/efi", "/efi"].contains($0.mount ?? "") })
        {
            throw GoldError(
                .invalidInput, "a UEFI machine needs a vfat partition mounted at /boot/efi (the EFI system partition)",
                at: location)
        }
        let totalSectors = disk.size.bytes / 512
        let lastUsable = totalSectors - gptTail - 1
        var next = alignment
        var placed: [PlannedPartition] = []
        for (i, spec) in specs.enumerated() {
            let at = "\(location).partitions[\(i)]"
            if spec.size == nil, i != specs.count - 1 {
                throw GoldError(.invalidInput, "only the last partition may omit its size", at: at)
            }
            let sectors: UInt64
            if let size = spec.size {
                guard size.bytes > 0, size.bytes % 512 == 0 else {
                    throw GoldError(
                        .invalidInput, "partition size \(size) must be a positive multiple of 512 bytes", at: at)
                }
                sectors = size.bytes / 512
            } else {
                let end = ((lastUsable + 1) / alignment) * alignment
                guard end > next else {
                    throw GoldError(
                        .invalidInput, "no space left for the last partition on a \(disk.size) disk", at: at)
                }
                sectors = end - next
            }
            guard next + sectors - 1 <= lastUsable else {
                let needed = ByteSize(bytes: (next + sectors + gptTail) * 512)
                throw GoldError(
                    .invalidInput, "the partitions need at least \(needed) but the disk is \(disk.size)", at: at)
            }
            let number = i + 1
            let isESP = boot == .uefi && spec.filesystem == .vfat && ["/boot/efi", "/efi"].contains(spec.mount ?? "")
            let isBIOSBoot = i == biosBootIndex
            let type: String
            switch spec.filesystem {
            case _ where isESP: type = TypeGUID.esp
            case _ where isBIOSBoot: type = TypeGUID.biosBoot
            case .swap: type = TypeGUID.linuxSwap
            case .vfat: type = TypeGUID.basicData
            case .ext4, .xfs: type = spec.mount == "/" ? TypeGUID.linuxRootAMD64 : TypeGUID.linuxData
            case .none: type = TypeGUID.linuxData
            }
            let fsUUID: String?
            switch spec.filesystem {
            case .vfat:
                let id = DeterministicID.vfatVolumeID(machine: machine, disk: index, partition: number)
                fsUUID = "\(id.prefix(4))-\(id.suffix(4))"
            case .ext4, .xfs, .swap:
                fsUUID = DeterministicID.uuid(machine: machine, disk: index, partition: number, purpose: "fs")
            case .none: fsUUID = nil
            }
            placed.append(
                PlannedPartition(
                    number: number, startSector: next, sectors: sectors, typeGUID: type,
                    partUUID: DeterministicID.uuid(machine: machine, disk: index, partition: number, purpose: "part"),
                    fsUUID: fsUUID, filesystem: spec.filesystem, mount: spec.mount, options: spec.options,
                    label: spec.label,
                    isBIOSBoot: isBIOSBoot, isESP: isESP))
            next = ((next + sectors + alignment - 1) / alignment) * alignment
        }
        return DiskPlan(
            index: index, device: disk.device, size: disk.size.bytes,
            diskGUID: DeterministicID.uuid(machine: machine, disk: index, partition: 0, purpose: "disk"),
            partitions: placed)
    }
}
