import Foundation
import GoldCore
import Testing

@testable import GoldImage

/// The base-layer cache: what its key sees, and that a build from the cache gives the bytes a fresh format gives.
@Suite struct BaseLayerTests {
    static func tree(in dir: TestDirectory) throws -> URL {
        let tree = dir.path("tree")
        try FileManager.default.createDirectory(
            at: tree.appendingPathComponent("etc"), withIntermediateDirectories: true)
        try Data("root:x:0:0::/root:/bin/sh\n".utf8).write(to: tree.appendingPathComponent("etc/passwd"))
        try Data("hello".utf8).write(to: tree.appendingPathComponent("etc/motd"))
        try FileManager.default.createSymbolicLink(
            atPath: tree.appendingPathComponent("etc/mtab").path, withDestinationPath: "/proc/mounts")
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
            try BaseLayerKey.compute(
                tree: tree, contentHashes: ["/etc/motd": String(repeating: "0", count: 64)], parameters: ["-b", "4096"])
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
        let entry = try #require(cache.open("b", size: 4096))
        close(entry.fd)
        #expect(try Data(contentsOf: cache.url("c")).prefix(4096) == Data(repeating: 7, count: 4096))
        #expect(cache.open("c", size: 8192) == nil, "an entry of another size is not this partition")
        #expect(!FileManager.default.fileExists(atPath: cache.url("c").path), "and is removed")
    }

    /// The copy writes only blocks that are not zero, and its digest sees the bytes, not how they are stored.
    @Test func sparseCopyDigestIsTheBytesNotTheLayout() throws {
        let dir = try TestDirectory("base-layer")
        let block = Int(SparseCopy.blockSize)
        var content = Data(repeating: 0, count: 4 * block)
        content.replaceSubrange(10..<20, with: Data(repeating: 1, count: 10))
        content.replaceSubrange((2 * block)..<(2 * block + 1), with: Data([9]))
        let dense = dir.path("dense")
        try content.write(to: dense)  // every block allocated, two of them zeros
        let sparse = dir.path("sparse")
        try sh("truncate -s \(4 * block) '\(sparse.path)'")
        try sh("dd if='\(dense.path)' of='\(sparse.path)' bs=\(block) count=1 conv=notrunc status=none")
        try sh("dd if='\(dense.path)' of='\(sparse.path)' bs=\(block) skip=2 seek=2 count=1 conv=notrunc status=none")

        func copy(_ source: URL, offset: UInt64 = 0) throws -> (digest: String, written: [Range<UInt64>], bytes: Data) {
            let target = dir.path("target-\(UUID().uuidString)")
            try sh("truncate -s \(5 * block) '\(target.path)'")
            let input = open(source.path, O_RDONLY)
            let output = open(target.path, O_WRONLY)
            defer {
                close(input)
                close(output)
            }
            var written: [Range<UInt64>] = []
            let digest = try SparseCopy.copy(
                input, name: source, from: offset, count: UInt64(3 * block), into: output, name: target,
                at: UInt64(block), written: &written)
            return (digest, written, try Data(contentsOf: target))
        }
        let fromDense = try copy(dense)
        let fromSparse = try copy(sparse)
        #expect(fromDense.digest == fromSparse.digest)
        #expect(fromDense.written == [UInt64(block)..<UInt64(2 * block), UInt64(3 * block)..<UInt64(4 * block)])
        #expect(
            fromDense.bytes == Data(repeating: 0, count: block) + content.prefix(3 * block)
                + Data(repeating: 0, count: block))
        #expect(try copy(dense, offset: UInt64(block)).digest != fromDense.digest, "the same bytes at other blocks")
        try sh("printf 'x' | dd of='\(sparse.path)' bs=1 seek=\(2 * block + 5) conv=notrunc status=none")
        #expect(try copy(sparse).digest != fromDense.digest)
        #expect(throws: SparseCopy.ReadError.self) { try copy(dense, offset: UInt64(2 * block)) }
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

    /// A damaged, truncated or unwritable cache costs a format, never the build nor its bytes.
    @Test func damagedOrUnwritableCacheIsNeverUsed() async throws {
        let dir = try TestDirectory("base-layer")
        let base = dir.path("base")
        try Fixtures.busyboxRoot(at: base)
        let kernel = try Fixtures.fakeKernel(at: dir.path("kernel"))
        let request = Fixtures.request(Fixtures.machine("damaged", boot: .uefi), base: base, kernel: kernel)
        let fresh = ImageBuilder(dataDirectory: dir.path("fresh"), cachesBaseLayers: false)
        let reference = try await fresh.build(request)
        defer { fresh.discard(reference) }
        let builder = ImageBuilder(dataDirectory: dir.path("cached"))
        let layers = dir.path("cached/base-layers")

        func build(_ builder: ImageBuilder) async throws -> [String] {
            let steps = StepLog()
            let result = try await builder.build(request) { steps.append($0.step) }
            defer { builder.discard(result) }
            #expect(try sh("cmp '\(reference.images[0].path)' '\(result.images[0].path)' && echo same") == "same\n")
            return steps.all.filter { $0.contains("base layer") }
        }
        func entry() throws -> URL {
            let names = try FileManager.default.contentsOfDirectory(atPath: layers.path)
            #expect(names.count == 1, "one entry, no temporary file left: \(names)")
            return layers.appendingPathComponent(try #require(names.first))
        }
        #expect(try await build(builder) == ["partition 2 ext4 base layer (mkfs.ext4 -d)"])
        // One byte of the superblock changed, size kept: copied, found not to match, undone, formatted again.
        try sh("printf 'x' | dd of='\(try entry().path)' bs=1 seek=1100 conv=notrunc status=none")
        #expect(
            try await build(builder) == [
                "partition 2 ext4 base layer (cached)", "partition 2 ext4 base layer (mkfs.ext4 -d)",
            ])
        #expect(try await build(builder) == ["partition 2 ext4 base layer (cached)"], "stored again after the format")
        try sh("truncate -s -1 '\(try entry().path)'")
        #expect(try await build(builder) == ["partition 2 ext4 base layer (mkfs.ext4 -d)"])
        // The last digit of the digest changed: the bytes no longer match what the trailer names.
        let damaged = try entry().path
        try sh(
            "f='\(damaged)'; at=$(( $(stat -c %s \"$f\") - 2 )); c=$(tail -c 2 \"$f\" | head -c 1); "
                + "[ \"$c\" = 0 ] && r=1 || r=0; printf $r | dd of=\"$f\" bs=1 seek=$at conv=notrunc status=none")
        #expect(
            try await build(builder) == [
                "partition 2 ext4 base layer (cached)", "partition 2 ext4 base layer (mkfs.ext4 -d)",
            ], "a damaged digest")

        // base-layers is a file: nothing can be cached, every build formats and succeeds.
        try FileManager.default.createDirectory(at: dir.path("blocked"), withIntermediateDirectories: true)
        try Data("not a directory".utf8).write(to: dir.path("blocked/base-layers"))
        let blocked = ImageBuilder(dataDirectory: dir.path("blocked"))
        for _ in 0..<2 { #expect(try await build(blocked) == ["partition 2 ext4 base layer (mkfs.ext4 -d)"]) }
    }

    /// Machines that differ only in their own files share the layer; another SOURCE_DATE_EPOCH does not.
    @Test func otherMachinesShareTheLayerOtherEpochsDoNot() async throws {
        let dir = try TestDirectory("base-layer")
        let base = dir.path("base")
        try Fixtures.busyboxRoot(at: base)
        let kernel = try Fixtures.fakeKernel(at: dir.path("kernel"))
        let builder = ImageBuilder(dataDirectory: dir.path("data"))
        func layerStep(_ request: ImageBuildRequest) async throws -> String? {
            let steps = StepLog()
            let result = try await builder.build(request) { steps.append($0.step) }
            builder.discard(result)
            return steps.all.first { $0.contains("base layer") }
        }
        func app(_ text: String) -> [ImageFile] {
            [ImageFile(path: "/usr/local/bin/app", mode: 0o755, source: .bytes(Data(text.utf8)))]
        }
        let first = Fixtures.request(
            Fixtures.machine("first", boot: .uefi), base: base, kernel: kernel, binaries: app("first"))
        #expect(try await layerStep(first) == "partition 2 ext4 base layer (mkfs.ext4 -d)")
        // Another name, hostname and binary content: all of it in the machine's own files.
        let other = Fixtures.request(
            Fixtures.machine("other", boot: .uefi), base: base, kernel: kernel, binaries: app("other version"))
        #expect(try await layerStep(other) == "partition 2 ext4 base layer (cached)")
        var later = first
        later.sourceDateEpoch += 1
        #expect(try await layerStep(later) == "partition 2 ext4 base layer (mkfs.ext4 -d)")
        try sh("printf 'changed' > '\(base.path)/etc/motd'")
        #expect(try await layerStep(first) == "partition 2 ext4 base layer (mkfs.ext4 -d)", "the base changed")
    }
}
