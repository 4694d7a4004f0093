import Foundation
import GoldCore
import Testing

@testable import GoldImage

/// Real builds from a busybox base (seconds each): reproducibility, dedup of a one-file change, bad inputs.
@Suite struct ImageBuilderTests {
    let dir: TestDirectory
    let base: URL
    let kernel: KernelInput

    init() throws {
        dir = try TestDirectory("builder")
        base = dir.path("base")
        try Fixtures.busyboxRoot(at: base)
        kernel = try Fixtures.fakeKernel(at: dir.path("kernel"))
    }

    func app(_ text: String) -> ImageFile {
        let data = Data(text.utf8)
        return ImageFile(path: "/usr/local/bin/app", mode: 0o755, source: .bytes(data), sha256: ChunkHash(of: data).hex)
    }

    func sha(_ url: URL) throws -> String { String(try sh("sha256sum '\(url.path)'").prefix(64)) }

    @Test(arguments: [BootMode.uefi, .bios])
    func sameInputsGiveTheSameImage(boot: BootMode) async throws {
        let builder = ImageBuilder(dataDirectory: dir.path("data"))
        let request = Fixtures.request(
            Fixtures.machine("repro", boot: boot), base: base, kernel: kernel, binaries: [app("v1")])
        let first = try await builder.build(request)
        defer { builder.discard(first) }
        let second = try await builder.build(request)
        defer { builder.discard(second) }
        #expect(try sha(first.images[0]) == (try sha(second.images[0])))
        #expect(first.files == second.files)
        var other = request
        other.machine.name = "repro-2"
        let third = try await builder.build(other)
        defer { builder.discard(third) }
        #expect(try sha(first.images[0]) != (try sha(third.images[0])))
    }

    @Test func imageHoldsTheMachinesFilesAndLayout() async throws {
        let builder = ImageBuilder(dataDirectory: dir.path("data"))
        let steps = StepLog()
        let result = try await builder.build(
            Fixtures.request(Fixtures.machine("web-1", boot: .uefi), base: base, kernel: kernel, binaries: [app("v1")])
        ) { steps.append($0.step) }
        defer { builder.discard(result) }
        let image = result.images[0].path
        let root = try #require(result.plans[0].partitions.first { $0.mount == "/" })
        func cat(_ path: String) throws -> String {
            try sh("debugfs -R 'cat \(path)' '\(image)?offset=\(root.offset)' 2>/dev/null")
        }
        #expect(try cat("/etc/hostname") == "web-1.lab\n")
        #expect(try cat("/etc/fstab") == Fstab.render(result.plans))
        #expect(try cat("/home/alice/.ssh/authorized_keys") == Fixtures.key + "\n")
        #expect(try cat("/etc/sudoers.d/gold-alice") == "alice ALL=(ALL) NOPASSWD: ALL\n")
        #expect(try cat("/usr/local/bin/app") == "v1")
        #expect(try cat("/boot/grub/grub.cfg") == result.grubConfig.rendered)
        #expect(
            try sh("debugfs -R 'stat /home/alice/.ssh/authorized_keys' '\(image)?offset=\(root.offset)' 2>/dev/null")
                .contains("User:  1000   Group:  1000"))
        try sh("e2fsck -fn '\(image)?offset=\(root.offset)' >/dev/null 2>&1")  // exits non-zero on any problem
        #expect(try sh("blkid -p -O \(root.offset) -s UUID -o value '\(image)'") == root.fsUUID! + "\n")
        let table = try sh("sfdisk --json '\(image)'")
        #expect(table.contains(result.plans[0].partitions[1].partUUID.uppercased()))
        let esp = result.plans[0].partitions[0]
        let espFiles = try sh("mdir -i '\(image)@@\(esp.offset)' -/ -b ::/EFI")
        #expect(espFiles.contains("::/EFI/BOOT/BOOTX64.EFI") && espFiles.contains("::/EFI/gold/grubenv"))
        #expect(result.files.entries.contains { $0.path == "/boot/efi/EFI/BOOT/BOOTX64.EFI" })
        #expect(result.files.entries.contains { $0.path == "/usr/local/bin/app" && $0.mode == 0o755 })
        #expect(steps.all.first == "base" && steps.all.last == "done" && steps.all.contains("partition table"))
    }

    @Test func oneFileChangeStoresFewNewChunks() async throws {
        let builder = ImageBuilder(dataDirectory: dir.path("data"))
        let store = ImageStore(root: dir.path("store"))
        let machine = Fixtures.machine("app-1", boot: .uefi, diskSize: "128MiB")
        let v1 = try await builder.buildAndImport(
            Fixtures.request(machine, base: base, kernel: kernel, binaries: [app("version one")]), into: store,
            change: .provision, description: "first")
        let v2 = try await builder.buildAndImport(
            Fixtures.request(
                machine, base: base, kernel: kernel, binaries: [app(String(repeating: "version two ", count: 900))]),
            into: store, change: .softwareUpdate, description: "app v2")
        #expect(v1.version == 1 && v2.version == 2)
        #expect(v2.newChunks * 100 <= v2.totalChunks * 5, "\(v2.newChunks) of \(v2.totalChunks) chunks new")
        #expect(try store.diff(machine: "app-1", v1: 1, v2: 2).map(\.description) == ["modified /usr/local/bin/app"])
        #expect(try store.manifest(machine: "app-1", version: 2).parent == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path("data/work").path).isEmpty)
    }

    @Test func badInputsLeaveNoVersionAndNoWorkFiles() async throws {
        let builder = ImageBuilder(dataDirectory: dir.path("data"))
        let store = ImageStore(root: dir.path("store"))
        let machine = Fixtures.machine("bad-1", boot: .uefi)
        var tooBig = machine
        tooBig.disks[0].partitions.insert(
            PartitionSpec(size: ByteSize("100MiB"), filesystem: .ext4, mount: "/data"), at: 1)
        let noKernel = try TestDirectory("nokernel")
        var fullDisk = machine
        fullDisk.disks[0].size = ByteSize("24MiB")!  // 7 MiB root cannot hold a 12 MiB binary
        let big = Data(repeating: 0x5A, count: 12 << 20).map { $0 &+ 1 }
        let cases: [(ImageBuildRequest, String)] = [
            (Fixtures.request(tooBig, base: base, kernel: kernel), "need at least"),
            (Fixtures.request(machine, base: base, kernel: KernelInput(directory: noKernel.url)), "no vmlinuz"),
            (ImageBuildRequest(machine: machine, base: .directory(base)), "no kernel"),
            (
                ImageBuildRequest(machine: machine, base: .tarball(dir.path("absent.tar")), kernel: kernel),
                "does not exist"
            ),
            (
                ImageBuildRequest(
                    machine: machine, base: .debian(DebianRecipe(packages: [], mirror: "http://127.0.0.1:9/debian")),
                    kernel: kernel), "building the base failed"
            ),
            (
                Fixtures.request(
                    machine, base: base, kernel: kernel,
                    binaries: [
                        ImageFile(
                            path: "/usr/bin/x", source: .bytes(Data("x".utf8)),
                            sha256: String(repeating: "0", count: 64))
                    ]), "SHA-256"
            ),
            (
                Fixtures.request(
                    fullDisk, base: base, kernel: kernel, binaries: [ImageFile(path: "/big", source: .bytes(Data(big)))]
                ),
                "mkfs.ext4 failed"
            ),
        ]
        for (request, message) in cases {
            let error = await #expect(throws: GoldError.self) {
                try await builder.buildAndImport(request, into: store, change: .provision, description: "bad")
            }
            #expect(error?.message.contains(message) == true, "\(String(describing: error)) should say \(message)")
        }
        #expect(try store.list(machine: "bad-1").isEmpty)
        #expect(try store.machines().isEmpty)
        let work = dir.path("data/work").path
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: work)) ?? []).isEmpty)
        let bases = (try? FileManager.default.contentsOfDirectory(atPath: dir.path("data/bases").path)) ?? []
        #expect(bases.isEmpty, "a failed base build left \(bases)")
    }

    @Test func severalDisksGiveOneImageEach() async throws {
        var machine = Fixtures.machine("multi-1", boot: .bios)
        machine.disks.append(
            DiskSpec(
                device: "/dev/vdb", size: ByteSize("32MiB")!,
                partitions: [
                    PartitionSpec(size: ByteSize("8MiB"), filesystem: .swap),
                    PartitionSpec(size: nil, filesystem: .ext4, mount: "/srv", label: "srv"),
                ]))
        let builder = ImageBuilder(dataDirectory: dir.path("data"))
        let store = ImageStore(root: dir.path("store"))
        try await builder.buildAndImport(
            Fixtures.request(machine, base: base, kernel: kernel), into: store, change: .provision,
            description: "two disks")
        let manifest = try store.manifest(machine: "multi-1", version: 1)
        #expect(manifest.disks.map(\.device) == ["/dev/vda", "/dev/vdb"])
        #expect(manifest.disks[1].size == 32 << 20)
        try await store.export(machine: "multi-1", version: 1, disk: 1, to: dir.path("vdb.raw"))
        let plans = try DiskLayout.plan(machine: machine)
        let srv = plans[1].partitions[1]
        let vdb = dir.path("vdb.raw").path
        #expect(try sh("blkid -p -O \(srv.offset) -s UUID -o value '\(vdb)'") == srv.fsUUID! + "\n")
        #expect(try sh("blkid -p -O \(plans[1].partitions[0].offset) -s TYPE -o value '\(vdb)'") == "swap\n")
        let fstab = Fstab.render(plans)
        #expect(fstab.contains("UUID=\(srv.fsUUID!) /srv ext4 defaults 0 2"))
        #expect(fstab.contains("UUID=\(plans[1].partitions[0].fsUUID!) none swap sw 0 0"))
    }
}

final class StepLog: @unchecked Sendable {
    private let lock = NSLock()
    private var steps: [String] = []
    func append(_ step: String) { lock.withLock { steps.append(step) } }
    var all: [String] { lock.withLock { steps } }
}
