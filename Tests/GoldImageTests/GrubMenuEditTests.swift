import Foundation
import GoldCore
import Testing

@testable import GoldImage

@Suite struct GrubMenuEditTests {
    let disk = GrubConfig(
        machine: "lab-bios-01", kernels: [.init(version: "6.1.0-28-amd64")],
        bootFilesystemUUID: "rootuuid", bootPathPrefix: "/boot", rootFilesystemUUID: "rootuuid",
        rootPartitionUUID: "AB-PART",
        environmentFilesystemUUID: "rootuuid", environmentPath: "/boot/grub/grubenv", boot: .bios,
        kernelArguments: "console=ttyS0 panic=10", timeoutSeconds: 1, netbootArguments: ""
    ).rendered

    @Test func aTrialKernelIsAddedAfterTheOldOneAndBootsByPartitionUUIDWithoutInitrd() throws {
        let edited = try GrubMenuEdit.addingKernel(
            disk, version: "6.1.192-gold-lab", initrd: false, rootPartitionUUID: "AB-PART")
        #expect(GrubMenuEdit.kernels(in: edited) == ["6.1.0-28-amd64", "6.1.192-gold-lab"])
        // The default is still the old kernel: the first entry, untouched.
        #expect(edited.contains("set default=\"gold-kernel-6.1.0-28-amd64\""))
        let expected = """
            menuentry 'Gold lab-bios-01: Linux 6.1.192-gold-lab' --id gold-kernel-6.1.192-gold-lab {
              search --no-floppy --fs-uuid --set=root rootuuid
              echo 'Loading Linux 6.1.192-gold-lab ...'
              linux /boot/vmlinuz-6.1.192-gold-lab root=PARTUUID=ab-part ro gold.entry=gold-kernel-6.1.192-gold-lab console=ttyS0 panic=10
            }
            """
        #expect(edited.contains(expected))
        #expect(!edited.contains("initrd.img-6.1.192"))
        // The netboot entry is still last.
        #expect(
            edited.range(of: "--id gold-netboot")!.lowerBound
                > edited.range(of: "--id gold-kernel-6.1.192-gold-lab")!.lowerBound)
    }

    @Test func addingTwiceReplacesAndRemovingRestoresTheOriginal() throws {
        let once = try GrubMenuEdit.addingKernel(disk, version: "6.1.192-x", initrd: true, rootPartitionUUID: nil)
        let twice = try GrubMenuEdit.addingKernel(once, version: "6.1.192-x", initrd: true, rootPartitionUUID: nil)
        #expect(GrubMenuEdit.kernels(in: twice) == ["6.1.0-28-amd64", "6.1.192-x"])
        #expect(twice.contains("initrd /boot/initrd.img-6.1.192-x"))
        #expect(GrubMenuEdit.removingKernel(once, version: "6.1.192-x") == disk)
        #expect(GrubMenuEdit.removingKernel(disk, version: "absent") == disk)
    }

    @Test func aConfigWithoutGoldEntriesIsRefusedWithAReason() {
        #expect(throws: GoldError.self) {
            try GrubMenuEdit.addingKernel("set timeout=1\n", version: "x", initrd: true, rootPartitionUUID: nil)
        }
        #expect(throws: GoldError.self) {
            try GrubMenuEdit.addingKernel(disk, version: "x", initrd: false, rootPartitionUUID: nil)
        }
    }

    @Test func theImagesOwnKernelWithoutInitrdBootsByPartitionUUID() {
        var config = GrubConfig(
            machine: "m", kernels: [.init(version: "6.1.192-gold", initrd: false), .init(version: "6.1.0-28-amd64")],
            bootFilesystemUUID: "fs", bootPathPrefix: "/boot", rootFilesystemUUID: "fs", rootPartitionUUID: "PART",
            environmentFilesystemUUID: "fs", environmentPath: "/boot/grub/grubenv", boot: .bios,
            kernelArguments: "", timeoutSeconds: 1, netbootArguments: "")
        #expect(config.rendered.contains("linux /boot/vmlinuz-6.1.192-gold root=PARTUUID=part ro"))
        #expect(config.rendered.contains("linux /boot/vmlinuz-6.1.0-28-amd64 root=UUID=fs ro"))
        #expect(!config.rendered.contains("initrd.img-6.1.192-gold"))
        #expect(GrubMenuEdit.rootFilesystemUUID(in: config.rendered) == "fs")
        config.rootPartitionUUID = nil
        #expect(config.rendered.contains("linux /boot/vmlinuz-6.1.192-gold root=UUID=fs ro"))
    }
}
