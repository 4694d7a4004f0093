import Foundation
import GoldCore
import Testing

@testable import GoldImage

/// One real boot per firmware: OVMF (UEFI) and SeaBIOS, from the built disk through GRUB into the kernel.
/// Needs root-free QEMU (TCG), OVMF, the Debian kernel that scripts/setup.sh unpacks, busybox-static and cpio.
@Suite(.serialized) struct BootTests {
    @Test(arguments: [BootMode.uefi, .bios])
    func builtImageBootsThroughGrub(mode: BootMode) async throws {
        let dir = try TestDirectory("boot-\(mode)")
        try Fixtures.busyboxRoot(at: dir.path("base"), initScript: BootLab.rootInit)
        let (kernel, version) = try BootLab.kernelInput(at: dir.url)
        var request = Fixtures.request(
            Fixtures.machine("boot-\(mode)", boot: mode), base: dir.path("base"), kernel: kernel)
        // A one-shot entry, as `grub-editenv … set next_entry=…` leaves it: GRUB must boot it and clear it.
        request.grubEnvironment = ["next_entry": "gold-kernel-\(version)"]
        let builder = ImageBuilder(dataDirectory: dir.path("data"))
        let store = ImageStore(root: dir.path("store"))
        try await builder.buildAndImport(request, into: store, change: .provision, description: "boot test")
        // Boot what the store serves, not the build's file.
        let disk = dir.path("disk.raw")
        try await store.export(machine: request.machine.name, version: 1, to: disk)
        let boot = try await BootLab.boot(disk: disk, mode: mode, work: dir.url)
        let console = boot.console
        print(
            "\(mode) boot (exit \(boot.exitStatus), \(boot.elapsed) s): kernel after \(boot.secondsToKernel ?? -1) s, init done after \(boot.secondsToDone ?? -1) s"
        )
        #expect(
            console.contains("Linux version \(version.split(separator: "-").first ?? "")"), "\(console.suffix(3000))")
        #expect(console.contains("GOLD-HOSTNAME: boot-\(mode).lab"))
        #expect(console.contains("GOLD-KEY: \(Fixtures.key)"))
        #expect(console.contains("gold.entry=gold-kernel-\(version)"))
        #expect(console.contains("GOLD-MOUNT-A: ok"))
        let rootUUID = try #require(
            try DiskLayout.plan(machine: request.machine)[0].partitions.first { $0.mount == "/" }?.fsUUID)
        #expect(console.contains("root=UUID=\(rootUUID)"))
        #expect(console.contains(" / ext4 rw"))
        if mode == .uefi { #expect(console.contains(" /boot/efi vfat ")) }
        // GRUB's save_env rewrote the block in place (vfat on UEFI, ext4 on BIOS): the one-shot entry is gone.
        #expect(console.contains("GOLD-ENV: next_entry=\r\n") || console.contains("GOLD-ENV: next_entry=\n"))
        #expect(!console.contains("GOLD-ENV: next_entry=gold"))
        #expect(console.contains("GOLD-DONE"))
    }

    /// `next_entry=gold-netboot` (what the agent sets before a netboot reboot) makes GRUB start iPXE from the disk.
    /// UEFI: ipxe.efi prints its banner on the serial console. BIOS: Debian's ipxe.lkrn prints only to VGA, so the
    /// proof is on the wire: with the NIC's option ROM disabled, only the disk's iPXE can send the DHCP request
    /// whose reply names `probe.ipxe` (and then fetch it over TFTP); the captured traffic must contain that name.
    @Test(arguments: [BootMode.uefi, .bios])
    func oneShotNetbootEntryStartsIPXE(mode: BootMode) async throws {
        let dir = try TestDirectory("netboot-\(mode)")
        try Fixtures.busyboxRoot(at: dir.path("base"))
        var request = Fixtures.request(
            Fixtures.machine("nb-\(mode)", boot: mode), base: dir.path("base"),
            kernel: try Fixtures.fakeKernel(at: dir.path("kernel")))
        request.grubEnvironment = ["next_entry": GrubConfig.netbootEntryID]
        let result = try await ImageBuilder(dataDirectory: dir.path("data")).build(request)
        let tftp = dir.path("tftp")
        try FileManager.default.createDirectory(at: tftp, withIntermediateDirectories: true)
        try Data("#!ipxe\necho GOLD-PROBE\n".utf8).write(to: tftp.appendingPathComponent("probe.ipxe"))
        let marker = mode == .uefi ? "iPXE initialising devices" : "probe.ipxe"
        let boot = try await BootLab.boot(
            disk: result.images[0], mode: mode, work: dir.url, until: marker, deadline: 120, tftp: tftp)
        print("\(mode) netboot entry: iPXE seen after \(boot.secondsToDone ?? -1) s")
        #expect(boot.secondsToDone != nil, "\(boot.console.suffix(2000))")
        #expect(boot.console.contains("Booting `Gold netboot (iPXE)'") && !boot.console.contains("Loading Linux"))
    }
}
