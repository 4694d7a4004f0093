import Foundation
import GoldCore
import Testing

@testable import GoldImage

/// The base-layer cache: what its key sees, and that a build from the cache gives the bytes a fresh format gives.
@Suite struct BaseLayerTests {
    static func tree(in dir: TestDirectory) throws -> URL {
        let tree = dir.path("tree")
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("etc"), withIntermediateDirectories: true)
        try Data("root:x:0:0::/root:/bin/sh\n".utf8).write(to: tree.appendingPathComponent("etc/passwd"))
        try Data("hello".utf8).write(to: tree.appendingPathComponent("etc/motd"))
        try FileManager.default.createSymbolicLink(atPath: tree.appendingPathComponent("etc/mtab").path, withDestinationPath: "/proc/mounts")
        return tree
    }

    static func key(_ tree: URL, _ parameters: [String] = ["-b", "4096"]) throws -> String {
        try BaseLayerKey.compute(tree: tree, contentHashes: [:], parameters: parameters)
    }

    @Test func keyIgnoresTimesButSeesEverythingMkfsCopies() throws {
        let dir = try TestDirectory("base-layer")
        let tree = try Self.tree(in: dir)
        let motd = tree.appendingPathComponent("etc/motd").path
        let original = try Self.key(tree)
        try sh("touch -d @1 '\(motd)' '\(tree.path)/etc'")
        #expect(try Self.key(tree) == original, "times are set to SOURCE_DATE_EPOCH later, a parameter")
        #expect(try Self.key(tree, ["-b", "1024"]) != original)
        #expect(
            try BaseLayerKey.compute(tree: tree, contentHashes: ["/etc/motd": String(repeating: "0", count: 64)], parameters: ["-b", "4096"])
                != original, "the file list's content hash is used when given")

        let changes: [(String, String)] = [
            ("content", "printf 'hellO' > '\(motd)'"),
            ("mode", "chmod 600 '\(motd)'"),
            ("owner", "chown 7:7 '\(motd)'"),
            ("link target", "ln -sfn /etc/other '\(tree.path)/etc/mtab'"),
            ("hard link", "ln '\(motd)' '\(tree.path)/etc/issue'"),
            ("new directory", "mkdir '\(tree.path)/home'"),
            ("xattr", "python3 -c \"import os; os.setxattr('\(motd)', 'user.gold', b'1')\""),
        ]
        var seen: Set<String> = [original]
        for (what, command) in changes {
            try sh(command)
            let key = try Self.key(tree)
            #expect(seen.insert(key).inserted, "a change of \(what) must change the key")
        }
        #expect(try BaseLayerKey.compute(tree: nil, contentHashes: [:], parameters: []) != original)
    }

    @Test func cacheKeepsTheNewestEntries() throws {
        let dir = try TestDirectory("base-layer")
        let cache = BaseLayerCache(directory: dir.path("cache"), capacity: 2)
        let image = dir.path("image")
        try Data(repeating: 7, count: 8192).write(to: image)
        for key in ["a", "b", "c"] {
            #expect(cache.store(key, image: image, offset: 4096, size: 4096) == nil)
            try sh("touch -d '-\(["a": 3, "b": 2, "c": 1][key]!) minutes' '\(cache.url(key).path)'")
        }
        cache.trim()
        #expect(cache.open("a", size: 4096) == nil)
        let fd = try #require(cache.open("b", size: 4096))
        close(fd)
        #expect(cache.open("c", size: 8192) == nil, "an entry of another size is not this partition")
        #expect(try Data(contentsOf: cache.url("c")) == Data(repeating: 7, count: 4096))
    }

    /// Builds from the cache (after a first build filled it) give the bytes of builds that format every time.
    @Test(arguments: [BootMode.uefi, .bios])
    func cachedBaseLayerGivesTheSameImage(boot: BootMode) async throws {
        let dir = try TestDirectory("base-layer")
        let base = dir.path("base")
        try Fixtures.busyboxRoot(at: base)
        let kernel = try Fixtures.fakeKernel(at: dir.path("kernel"))
        let request = Fixtures.request(Fixtures.machine("cached", boot: boot), base: base, kernel: kernel)
        let fresh = ImageBuilder(dataDirectory: dir.path("fresh"), cachesBaseLayers: false)
        let cached = ImageBuilder(dataDirectory: dir.path("cached"))
        let reference = try await fresh.build(request)
        defer { fresh.discard(reference) }
        let steps = StepLog()
        for _ in 0..<2 {
            let result = try await cached.build(request) { steps.append($0.step) }
            defer { cached.discard(result) }
            #expect(try sh("cmp '\(reference.images[0].path)' '\(result.images[0].path)' && echo same") == "same\n")
        }
        #expect(steps.all.filter { $0.hasSuffix("base layer (mkfs.ext4 -d)") }.count == 1)
        #expect(steps.all.filter { $0.hasSuffix("base layer (cached)") }.count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path("cached/base-layers").path).count == 1)
        #expect(!FileManager.default.fileExists(atPath: dir.path("fresh/base-layers").path))
    }
}
