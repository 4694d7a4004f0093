import Foundation
import GoldCore
import Testing

@testable import GoldImage

@Suite struct LayoutTests {
    @Test func deterministicUUIDsDependOnMachineAndPlaceOnly() {
        let a = DeterministicID.uuid(machine: "web-1", disk: 0, partition: 2, purpose: "fs")
        #expect(a == DeterministicID.uuid(machine: "web-1", disk: 0, partition: 2, purpose: "fs"))
        #expect(a != DeterministicID.uuid(machine: "web-2", disk: 0, partition: 2, purpose: "fs"))
        #expect(a != DeterministicID.uuid(machine: "web-1", disk: 1, partition: 2, purpose: "fs"))
        #expect(a != DeterministicID.uuid(machine: "web-1", disk: 0, partition: 2, purpose: "part"))
        #expect(
            a.range(
                of: "^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", options: .regularExpression
            ) != nil)
        #expect(DeterministicID.vfatVolumeID(machine: "web-1", disk: 0, partition: 1).count == 8)
    }

    @Test func uefiLayoutIsAlignedAndTyped() throws {
        let plans = try DiskLayout.plan(machine: Fixtures.machine("n1", boot: .uefi))
        let parts = plans[0].partitions
        #expect(parts.map(\.startSector) == [2048, 2048 + 16 * 2048])
        #expect(parts[0].isESP && parts[0].typeGUID == DiskLayout.TypeGUID.esp)
        #expect(parts[1].typeGUID == DiskLayout.TypeGUID.linuxRootAMD64)
        #expect(parts[1].startSector + parts[1].sectors <= 64 * 2048 - 34)
        #expect(parts[1].sectors % 2048 == 0)
        #expect(plans[0].sfdiskScript.contains("label: gpt"))
        #expect(plans[0].sfdiskScript.contains("type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B"))
    }

    @Test func biosLayoutGetsABIOSBootPartitionFirst() throws {
        let plans = try DiskLayout.plan(machine: Fixtures.machine("n1", boot: .bios))
        let parts = plans[0].partitions
        #expect(parts.count == 2)
        #expect(parts[0].isBIOSBoot && parts[0].sectors == 2048 && parts[0].typeGUID == DiskLayout.TypeGUID.biosBoot)
        #expect(parts[1].mount == "/")
        // A layout that already has one keeps it where it is.
        var machine = Fixtures.machine("n1", boot: .bios)
        machine.disks[0].partitions.append(PartitionSpec(size: ByteSize("1MiB"), filesystem: .none, label: "bios-boot"))
        machine.disks[0].partitions[0].size = ByteSize("32MiB")
        let own = try DiskLayout.plan(machine: machine)[0].partitions
        #expect(own.count == 2 && own[1].isBIOSBoot)
    }

    @Test(arguments: [
        ("8MiB", [("2MiB", Filesystem.vfat, "/boot/efi"), ("64MiB", .ext4, "/")], "need at least"),
        ("64MiB", [("16MiB", .vfat, "/data"), ("40MiB", .ext4, "/")], "EFI system partition"),
        ("64MiB", [("16MiB", .vfat, "/boot/efi")], "mounted at /"),
        ("1000", [("16MiB", .ext4, "/")], "multiple of 512"),
    ])
    func badLayoutsAreRejected(disk: String, partitions: [(String, Filesystem, String)], message: String) {
        var machine = Fixtures.machine("n1", boot: .uefi)
        machine.disks = [
            DiskSpec(
                size: ByteSize(disk)!,
                partitions: partitions.map {
                    PartitionSpec(size: ByteSize($0.0), filesystem: $0.1, mount: $0.2)
                })
        ]
        let error = #expect(throws: GoldError.self) { try DiskLayout.plan(machine: machine) }
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test func fstabListsEveryMountedPartitionOfEveryDiskByUUID() throws {
        var machine = Fixtures.machine("db-1", boot: .uefi, diskSize: "256MiB")
        machine.disks[0].partitions = [
            PartitionSpec(size: ByteSize("32MiB"), filesystem: .vfat, mount: "/boot/efi"),
            PartitionSpec(size: ByteSize("64MiB"), filesystem: .ext4, mount: "/boot"),
            PartitionSpec(size: ByteSize("32MiB"), filesystem: .swap),
            PartitionSpec(size: nil, filesystem: .ext4, mount: "/"),
        ]
        machine.disks.append(
            DiskSpec(
                device: "/dev/vdb", size: ByteSize("128MiB")!,
                partitions: [
                    PartitionSpec(size: nil, filesystem: .ext4, mount: "/var/lib/db", options: "noatime")
                ]))
        let plans = try DiskLayout.plan(machine: machine)
        let lines = Fstab.render(plans).split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
        let p = plans.flatMap(\.partitions)
        #expect(
            lines == [
                "UUID=\(p[3].fsUUID!) / ext4 errors=remount-ro 0 1",
                "UUID=\(p[1].fsUUID!) /boot ext4 defaults 0 2",
                "UUID=\(p[0].fsUUID!) /boot/efi vfat umask=0077 0 2",
                "UUID=\(p[4].fsUUID!) /var/lib/db ext4 noatime 0 2",
                "UUID=\(p[2].fsUUID!) none swap sw 0 0",
            ])
        #expect(p[0].fsUUID!.range(of: "^[0-9A-F]{4}-[0-9A-F]{4}$", options: .regularExpression) != nil)
    }

    @Test func biosBootCodeIsPatchedWithThePartitionSector() throws {
        let boot = try Data(contentsOf: URL(fileURLWithPath: "/usr/lib/grub/i386-pc/boot.img"))
        let patched = try BIOSBootCode.patchedBootImage(boot, coreSector: 2048)
        #expect(patched.count == 440)
        #expect(Array(patched[0x5c..<0x64]) == [0x00, 0x08, 0, 0, 0, 0, 0, 0])
        #expect(Array(patched[0x66..<0x68]) == [0x90, 0x90])
        var core = Data(count: 512 * 60)
        core[0x1fc] = 59
        let patchedCore = try BIOSBootCode.patchedCoreImage(core, coreSector: 2048, partitionSectors: 2048)
        #expect(Array(patchedCore[0x1f4..<0x1fc]) == [0x01, 0x08, 0, 0, 0, 0, 0, 0])
        #expect(patchedCore[0x1fc] == 59 && patchedCore[0x1fd] == 0)
        #expect(throws: GoldError.self) {
            try BIOSBootCode.patchedCoreImage(core, coreSector: 2048, partitionSectors: 10)
        }
    }
}

@Suite struct InodeListingTests {
    @Test func usedInodesAreTheComplementOfEachGroupsFreeList() throws {
        let listing = """
            Inodes per group:         16
            Group 0: (Blocks 0-32767) csum 0xa223 [ITABLE_ZEROED]
              Free inodes: 15-16
            Group 1: (Blocks 32768-65535) csum 0x0474 [INODE_UNINIT]
              Free inodes: 17-20, 22, 24-32
            Group 2: (Blocks 65536-98303) csum 0xfd6d [INODE_UNINIT]
              Free inodes: 33-48
            """
        #expect(try ImageBuilder.usedInodes(dumpe2fs: listing, context: "t") == Array(1...14) + [21, 23])
        #expect(throws: GoldError.self) { try ImageBuilder.usedInodes(dumpe2fs: "Group 0:", context: "t") }
    }
}

@Suite struct OverlayScriptTests {
    @Test func overlayIsAppendedWithOwnersAndModes() {
        let script = ImageBuilder.overlayScript([
            OverlayEntry(path: "/etc/hostname", source: URL(fileURLWithPath: "/w/o/etc/hostname"), symlinkTarget: nil),
            OverlayEntry(
                path: "/home/alice/.ssh/authorized_keys", source: URL(fileURLWithPath: "/w/o/k"), symlinkTarget: nil,
                mode: 0o100600, uid: 1000, gid: 1000),
            OverlayEntry(
                path: "/etc/systemd/system/multi-user.target.wants/ssh.service", source: URL(fileURLWithPath: "/w/o/l"),
                symlinkTarget: "/lib/systemd/system/ssh.service", mode: 0o120777),
        ])
        #expect(
            script == """
                cd /etc
                write /w/o/etc/hostname hostname
                sif /etc/hostname mode 0100644
                cd /home/alice/.ssh
                write /w/o/k authorized_keys
                sif /home/alice/.ssh/authorized_keys mode 0100600
                sif /home/alice/.ssh/authorized_keys uid 1000
                sif /home/alice/.ssh/authorized_keys gid 1000
                symlink /etc/systemd/system/multi-user.target.wants/ssh.service /lib/systemd/system/ssh.service

                """)
    }
}
