import Foundation
import GoldCore
import Testing

@testable import GoldImage

/// Garbage collection and export on a store holding real builds (busybox base, nothing mounted): three versions
/// of one machine and one of another, sharing the base's chunks.
@Suite struct ImageStoreGCTests {
    let dir: TestDirectory
    let store: ImageStore

    init() async throws {
        dir = try TestDirectory("gc")
        let base = dir.path("base")
        try Fixtures.busyboxRoot(at: base)
        let kernel = try Fixtures.fakeKernel(at: dir.path("kernel"))
        store = ImageStore(root: dir.path("store"))
        let builder = ImageBuilder(dataDirectory: dir.path("data"))
        func app(_ text: String) -> ImageFile {
            ImageFile(path: "/usr/local/bin/app", mode: 0o755, source: .bytes(Data(text.utf8)))
        }
        let machine = Fixtures.machine("gc-1", boot: .uefi)
        for (n, text) in ["one", String(repeating: "two ", count: 3000), String(repeating: "three ", count: 5000)]
            .enumerated()
        {
            try await builder.buildAndImport(
                Fixtures.request(machine, base: base, kernel: kernel, binaries: [app(text)]), into: store,
                change: n == 0 ? .provision : .softwareUpdate, description: "app v\(n + 1)")
        }
        try await builder.buildAndImport(
            Fixtures.request(Fixtures.machine("gc-2", boot: .uefi), base: base, kernel: kernel, binaries: [app("one")]),
            into: store, change: .provision, description: "other machine")
    }

    func chunks(_ machine: String, _ version: Int) throws -> Set<ChunkHash> {
        Set(try store.manifest(machine: machine, version: version).disks.flatMap { $0.chunks.compactMap { $0 } })
    }

    func sha256(_ url: URL) throws -> String { String(try sh("sha256sum '\(url.path)'").prefix(64)) }

    @Test func keepsCurrentAndNewestAndFreesOnlyWhatNothingElseNames() async throws {
        try store.setCurrent(machine: "gc-1", version: 1)
        // Computed from the manifests here, not by the code under test: what only version 2 names.
        let onlyV2 = try chunks("gc-1", 2).subtracting(chunks("gc-1", 1)).subtracting(chunks("gc-1", 3))
            .subtracting(chunks("gc-2", 1))
        #expect(!onlyV2.isEmpty)
        let before = try store.chunks.all()

        let plan = try store.garbageCollect(keep: RetentionRule(keepLast: 1), dryRun: true)
        #expect(plan.dryRun && plan.removedVersions == ["gc-1": [2]])
        #expect(try store.list(machine: "gc-1") == [1, 2, 3])
        #expect(try store.chunks.all().count == before.count)

        let gc = try store.garbageCollect(keep: RetentionRule(keepLast: 1))
        #expect(gc.removedVersions == ["gc-1": [2]])
        #expect(gc.machines.first { $0.machine == "gc-1" }?.reasons == ["1": ["current"], "3": ["newest"]])
        #expect(gc.removedChunks == onlyV2.count && plan.removedChunks == onlyV2.count)
        let sizes = Dictionary(uniqueKeysWithValues: before.map { ($0.hash, $0.bytes) })
        #expect(gc.bytesFreed == onlyV2.reduce(0) { $0 + sizes[$1]! } && plan.bytesFreed == gc.bytesFreed)
        #expect(gc.remainingChunks == before.count - onlyV2.count)
        #expect(try store.list(machine: "gc-1") == [1, 3] && store.list(machine: "gc-2") == [1])
        #expect(!FileManager.default.fileExists(atPath: store.filesURL("gc-1", 2).path))
        let after = Set(try store.chunks.all().map(\.hash))
        #expect(after == Set(before.map(\.hash)).subtracting(onlyV2))

        // Every kept version still reads back whole: export verifies each chunk and the image's SHA-256.
        for (machine, version) in [("gc-1", 1), ("gc-1", 3), ("gc-2", 1)] {
            let out = dir.path("\(machine)-\(version).raw")
            try await store.export(machine: machine, version: version, to: out)
            #expect(try sha256(out) == store.manifest(machine: machine, version: version).disks[0].sha256)
        }
        #expect(try store.diff(machine: "gc-1", v1: 1, v2: 3).map(\.description) == ["modified /usr/local/bin/app"])
        let again = try store.garbageCollect(keep: RetentionRule(keepLast: 1))
        #expect(again.removedChunks == 0 && again.bytesFreed == 0 && again.removedVersions.isEmpty)
    }

    @Test func exportedRawImageHasTheManifestsHashAndIsSparse() async throws {
        let manifest = try store.manifest(machine: "gc-1", version: 3)
        var reports: [UInt64] = []
        try await store.export(machine: "gc-1", version: 3, to: dir.path("v3.raw")) { done, total in
            #expect(total == manifest.disks[0].size)
            reports.append(done)
        }
        #expect(try sha256(dir.path("v3.raw")) == manifest.disks[0].sha256)
        #expect(reports.count == manifest.disks[0].chunks.count && reports.last == manifest.disks[0].size)
        let allocated = try #require(
            Int(try sh("du -B1 '\(dir.path("v3.raw").path)' | cut -f1").trimmingCharacters(in: .whitespacesAndNewlines))
        )
        #expect(allocated < Int(manifest.disks[0].size), "zero chunks should be holes")
    }

    @Test func exportOfACorruptChunkFailsNamingIt() async throws {
        let hash = try #require(try store.manifest(machine: "gc-1", version: 2).disks[0].chunks.compactMap { $0 }.last)
        let url = store.chunks.url(for: hash)
        var bytes = try Data(contentsOf: url)
        bytes[bytes.startIndex + 100] ^= 0xFF
        try bytes.write(to: url)
        let error = await #expect(throws: GoldError.self) {
            try await store.export(machine: "gc-1", version: 2, to: dir.path("bad.raw"))
        }
        #expect(error?.message.contains(hash.hex) == true, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: dir.path("bad.raw").path))
        let missing = await #expect(throws: GoldError.self) {
            try await store.export(machine: "gc-1", version: 9, to: dir.path("none.raw"))
        }
        #expect(missing?.code == .notFound && missing?.message.contains("no image version 9") == true)
    }

    @Test func showSummarisesAVersionAgainstItsParent() throws {
        let detail = try store.detail(machine: "gc-1", version: 2)
        let manifest = try store.manifest(machine: "gc-1", version: 2)
        #expect(detail.parent == 1 && detail.parentAvailable && detail.current == false)
        #expect(detail.change == "software-update" && detail.description == "app v2")
        #expect(detail.disks[0].sha256 == manifest.disks[0].sha256 && detail.size == manifest.disks[0].size)
        let new = try chunks("gc-1", 2).subtracting(chunks("gc-1", 1))
        #expect(detail.newChunks == new.count && new.count > 0)
        #expect(
            detail.zeroBytes
                == UInt64(
                    manifest.disks[0].chunks.indices.filter { manifest.disks[0].chunks[$0] == nil }
                        .reduce(0) { $0 + manifest.disks[0].length(ofChunk: $1) }))
        #expect(try store.detail(machine: "gc-1", version: 3).current)
    }
}
