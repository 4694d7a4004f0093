import Foundation
import GoldCore
import Testing

@testable import GoldImage

extension Tag {
    @Tag static var benchmark: Tag
}

/// Not run by default (minutes, GiBs): `GOLD_BENCHMARK=1 swift test --filter ImageBenchmark` (a debug build).
/// Builds 2 GiB Debian images from the cached mmdebstrap base for ten machines and a second version of one,
/// and reports build time, store bytes per extra machine and per extra version, and the dedup ratio. The
/// release benchmark with times per step and a plain pipeline beside it is `Benchmarks/image-build/run.sh`.
@Suite(.serialized, .tags(.benchmark), .enabled(if: ProcessInfo.processInfo.environment["GOLD_BENCHMARK"] != nil))
struct ImageBenchmark {
    static var data: URL {
        URL(fileURLWithPath: ProcessInfo.processInfo.environment["GOLD_BENCH_DATA"] ?? "/var/tmp/gold-image-bench")
    }

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
            users: [UserSpec(name: "ops", groups: ["sudo"], keys: [Fixtures.key], sudo: "ALL=(ALL) NOPASSWD: ALL")],
            services: ["ssh"])
    }

    static func request(_ name: String, binary: String = "v1") throws -> ImageBuildRequest {
        guard let mirror = DebianRecipe.hostMirror() else { throw GoldError(.notFound, "no Debian mirror in /etc/apt") }
        let data = Data(binary.utf8)
        return ImageBuildRequest(
            machine: machine(name), base: .debian(DebianRecipe(mirror: mirror)),
            binaries: [ImageFile(path: "/usr/local/bin/app", mode: 0o755, source: .bytes(data))])
    }

    @Test func tenMachinesAndASecondVersion() async throws {
        let builder = ImageBuilder(dataDirectory: Self.data)
        let store = ImageStore(root: Self.data.appendingPathComponent("store-\(UUID().uuidString.prefix(6))"))
        defer { try? FileManager.default.removeItem(at: store.root) }
        let baseStart = ContinuousClock.now
        _ = try await builder.baseTarball(for: DebianRecipe(mirror: DebianRecipe.hostMirror()!))
        print("BENCH base (mmdebstrap or cache hit): \(ContinuousClock.now - baseStart)")
        var lines: [String] = []
        let count = Int(ProcessInfo.processInfo.environment["GOLD_BENCH_MACHINES"] ?? "") ?? 10
        for i in 0..<count {
            let start = ContinuousClock.now
            let stats = try await builder.buildAndImport(
                try Self.request("bench-\(i)"), into: store, change: .provision, description: "bench")
            lines.append(
                "BENCH machine \(i): \(ContinuousClock.now - start), chunks \(stats.totalChunks) (zero \(stats.zeroChunks)), new \(stats.newChunks) = \(stats.newBytes / 1_048_576) MiB"
            )
            print(lines.last!)
        }
        let start = ContinuousClock.now
        let v2 = try await builder.buildAndImport(
            try Self.request("bench-0", binary: String(repeating: "v2", count: 50_000)),
            into: store, change: .softwareUpdate, description: "one binary changed")
        print(
            "BENCH version 2 of bench-0: \(ContinuousClock.now - start), new \(v2.newChunks) chunks = \(v2.newBytes / 1_048_576) MiB"
        )
        print("BENCH diff: \(try store.diff(machine: "bench-0", v1: 1, v2: 2).map(\.description))")
        let stored = try store.chunks.all().reduce(UInt64(0)) { $0 + $1.bytes }
        print(
            "BENCH store: \(stored / 1_048_576) MiB of chunks for \(count + 1) images of 2 GiB (\((count + 1) * 2048) MiB logical)"
        )
        if ProcessInfo.processInfo.environment["GOLD_BENCH_DETAIL"] != nil {
            let a = try store.manifest(machine: "bench-0", version: 1).disks[0].chunks
            let b = try store.manifest(machine: "bench-1", version: 1).disks[0].chunks
            let c = try store.manifest(machine: "bench-0", version: 2).disks[0].chunks
            print("BENCH differ machine: \(a.indices.filter { a[$0] != b[$0] })")
            print("BENCH differ version: \(a.indices.filter { a[$0] != c[$0] })")
        }
        #expect(v2.newChunks * 100 <= v2.totalChunks * 5)
    }

    /// A full Debian (systemd) boot of a built image under TCG, to the serial login prompt.
    @Test func debianBootsToLogin() async throws {
        let builder = ImageBuilder(dataDirectory: Self.data)
        let result = try await builder.build(try Self.request("bench-boot"))
        defer { builder.discard(result) }
        let boot = try await BootLab.boot(
            disk: result.images[0], mode: .uefi, work: result.workDirectory, until: "login:", deadline: 600)
        print(
            "BENCH Debian UEFI boot: kernel after \(boot.secondsToKernel ?? -1) s, login prompt after \(boot.secondsToDone ?? -1) s"
        )
        #expect(boot.secondsToDone != nil, "\(boot.console.suffix(4000))")
    }
}
