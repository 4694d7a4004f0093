import Foundation
import GoldCore
import Testing

@testable import GoldImage

/// The base-tree cache: a tarball base unpacked once and hard-linked into every build gives the bytes of a build that
/// unpacks it, never outlives a change of the tarball's bytes, and a broken cache only costs the unpack.
@Suite struct BaseTreeTests {
    let dir: TestDirectory
    let tarball: URL
    let kernel: KernelInput

    init() throws {
        dir = try TestDirectory("base-tree")
        let base = dir.path("base")
        try Fixtures.busyboxRoot(at: base)
        // A hard-link pair of the base's own: it must stay one inode with two names in the image.
        try sh(
            "printf 'shared\\n' > '\(base.path)/etc/linked-a' && ln '\(base.path)/etc/linked-a' '\(base.path)/etc/linked-b'"
        )
        tarball = dir.path("base.tar")
        try sh("tar -cf '\(tarball.path)' --numeric-owner -C '\(base.path)' .")
        kernel = try Fixtures.fakeKernel(at: dir.path("kernel"))
    }

    func request(_ name: String = "tree", epoch: Int64 = 1_700_000_000) -> ImageBuildRequest {
        var request = ImageBuildRequest(
            machine: Fixtures.machine(name, boot: .uefi), base: .tarball(tarball), kernel: kernel,
            binaries: [ImageFile(path: "/usr/local/bin/app", mode: 0o755, source: .bytes(Data(name.utf8)))])
        request.sourceDateEpoch = epoch
        return request
    }

    func sha(_ builder: ImageBuilder, _ request: ImageBuildRequest) async throws -> String {
        let result = try await builder.build(request)
        defer { builder.discard(result) }
        return String(try sh("sha256sum '\(result.images[0].path)'").prefix(64))
    }

    func trees(_ data: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path("\(data)/base-trees").path).sorted()
    }

    /// Unpacking every time (both caches off) against a cold tree cache, a warm one, and a warm one beside a warm
    /// base-layer cache: the same image each time, one tree, and the tree unchanged by the builds linking it.
    @Test func linkedTreeGivesTheBytesOfAnUnpack() async throws {
        let plain = ImageBuilder(dataDirectory: dir.path("plain"), cachesBaseLayers: false, cachesBaseTrees: false)
        let reference = try await sha(plain, request())
        #expect(!FileManager.default.fileExists(atPath: dir.path("plain/base-trees").path))

        let treesOnly = ImageBuilder(dataDirectory: dir.path("cached"), cachesBaseLayers: false)
        #expect(try await sha(treesOnly, request()) == reference, "cold: unpacked into the cache, then linked")
        let names = try trees("cached")
        #expect(names.count == 1)
        let tree = dir.path("cached/base-trees/\(try #require(names.first))")
        let before = try BaseLayerKey.compute(tree: tree, contentHashes: [:], parameters: [])
        #expect(try await sha(treesOnly, request()) == reference, "warm")
        let both = ImageBuilder(dataDirectory: dir.path("cached"))
        for _ in 0..<2 { #expect(try await sha(both, request()) == reference, "with the base-layer cache too") }
        #expect(try trees("cached") == names)
        #expect(
            try BaseLayerKey.compute(tree: tree, contentHashes: [:], parameters: []) == before,
            "no build wrote through its links into the shared tree")
    }

    /// New tarball bytes at the same path get a tree of their own (and the image their content); another epoch
    /// gets its own tree, as builds set the linked inodes' times.
    @Test func changedTarballOrEpochNeverReusesATree() async throws {
        let builder = ImageBuilder(dataDirectory: dir.path("data"))
        let plain = ImageBuilder(dataDirectory: dir.path("plain"), cachesBaseLayers: false, cachesBaseTrees: false)
        let first = try await sha(builder, request())
        #expect(try trees("data").count == 1)

        let base = dir.path("changed")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        try sh(
            "tar -xpf '\(tarball.path)' -C '\(base.path)' && printf 'changed\\n' > '\(base.path)/etc/linked-a' "
                + "&& tar -cf '\(tarball.path)' --numeric-owner -C '\(base.path)' .")
        let changed = try await sha(builder, request())
        #expect(changed != first)
        #expect(changed == (try await sha(plain, request())))
        #expect(try trees("data").count == 2)

        let otherEpoch = try await sha(builder, request(epoch: 1_700_000_001))
        #expect(otherEpoch == (try await sha(plain, request(epoch: 1_700_000_001))))
        #expect(try trees("data").count == 2, "capacity 2: the least recently used tree was removed")
        #expect(try trees("data").allSatisfy { !$0.hasPrefix(".") }, "no temporary tree left")
    }

    /// A cache that cannot be written (base-trees is a file) or whose tree cannot be linked costs the unpack only.
    @Test func brokenCacheOnlyCostsTheUnpack() async throws {
        let plain = ImageBuilder(dataDirectory: dir.path("plain"), cachesBaseLayers: false, cachesBaseTrees: false)
        let reference = try await sha(plain, request())
        try FileManager.default.createDirectory(at: dir.path("blocked"), withIntermediateDirectories: true)
        try Data("not a directory".utf8).write(to: dir.path("blocked/base-trees"))
        let blocked = ImageBuilder(dataDirectory: dir.path("blocked"))
        #expect(try await sha(blocked, request()) == reference)

        // The tree's name taken by a file: linking fails, the stage is removed and the tarball unpacked.
        let builder = ImageBuilder(dataDirectory: dir.path("data"))
        #expect(try await sha(builder, request()) == reference)
        let tree = dir.path("data/base-trees/\(try #require(try trees("data").first))")
        try FileManager.default.removeItem(at: tree)
        try Data("not a tree".utf8).write(to: tree)
        #expect(try await sha(builder, request()) == reference)
    }
}
