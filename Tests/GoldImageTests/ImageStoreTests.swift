import Foundation
import GoldCore
import Testing

@testable import GoldImage

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct ImageStoreTests {
    /// A 4 MiB + 100 byte image: chunk 0 data, chunk 1 zero, chunk 2 data, chunk 3 equal to chunk 0, short tail.
    static func sampleImage(_ url: URL, variant: UInt8 = 1) throws -> Data {
        var data = Data(repeating: variant, count: 1 << 20)
        data.append(Data(count: 1 << 20))
        data.append(Data(repeating: 0xAB, count: 1 << 20))
        data.append(Data(repeating: variant, count: 1 << 20))
        data.append(Data(repeating: 0xCD, count: 100))
        try data.write(to: url)
        return data
    }

    @Test func importChunksDedupsAndSkipsZeros() throws {
        let dir = try TestDirectory()
        let store = ImageStore(root: dir.path("store"))
        let original = try Self.sampleImage(dir.path("a.raw"))
        let stats = try store.importImage(
            file: dir.path("a.raw"), machine: "node1", change: .provision, description: "first")
        #expect(stats.version == 1)
        #expect(stats.totalChunks == 5)
        #expect(stats.zeroChunks == 1)
        #expect(stats.newChunks == 3)  // chunk 3 repeats chunk 0
        #expect(stats.totalBytes == UInt64(original.count))
        let again = try store.importImage(file: dir.path("a.raw"), machine: "node2", change: .provision)
        #expect(again.newChunks == 0)
        #expect(again.version == 1)
        let manifest = try store.manifest(machine: "node1", version: 1)
        #expect(manifest.disks[0].chunks[1] == nil)
        #expect(manifest.disks[0].size == UInt64(original.count))
        #expect(try store.read(machine: "node1", version: 1, offset: 0, count: original.count) == original)
        #expect(
            try store.read(machine: "node1", version: 1, offset: (1 << 20) - 2, count: 4)
                == original.subdata(in: (1 << 20) - 2..<(1 << 20) + 2))
    }

    @Test func manifestRoundTrips() throws {
        let manifest = ImageManifest(
            machine: "web-1", version: 3, parent: 2, change: .kernelUpgrade, description: "linux 6.1.99",
            created: 1_700_000_000,
            disks: [
                DiskImageManifest(
                    index: 0, device: "/dev/vda", size: 3 << 20, sha256: String(repeating: "a", count: 64),
                    chunkSize: 1 << 20, chunks: [ChunkHash(of: Data([1])), nil, ChunkHash(of: Data([2]))])
            ])
        let data = try manifest.encoded()
        #expect(try ImageManifest.decode(data, at: "x") == manifest)
        #expect(String(decoding: data, as: UTF8.self).contains("\"change\" : \"kernel-upgrade\""))
        #expect(try manifest.encoded() == data)
        #expect(throws: GoldError.self) { try ImageManifest.decode(Data("{".utf8), at: "x") }
    }

    @Test func versionsWithoutCompleteManifestAreNotListed() throws {
        let dir = try TestDirectory()
        let store = ImageStore(root: dir.path("store"))
        _ = try Self.sampleImage(dir.path("a.raw"))
        try store.importImage(file: dir.path("a.raw"), machine: "node1", change: .provision)
        // What a crash before the manifest rename leaves: a file list, a temporary manifest.
        let machineDir = store.machineDirectory("node1")
        try Data("{}".utf8).write(to: machineDir.appendingPathComponent("2.files.json"))
        try Data("{\"partial".utf8).write(to: store.chunks.temporaryDirectory.appendingPathComponent(".2.json.tmp"))
        #expect(try store.list(machine: "node1") == [1])
        let next = try store.importImage(file: dir.path("a.raw"), machine: "node1", change: .softwareUpdate)
        #expect(next.version == 2)
        #expect(try store.manifest(machine: "node1", version: 2).parent == 1)
        // The interrupted import's file list is not this image's: a capture has none.
        #expect(throws: GoldError.self) { try store.files(machine: "node1", version: 2) }
    }

    @Test func missingFileOrBadParentLeavesNoVersion() throws {
        let dir = try TestDirectory()
        let store = ImageStore(root: dir.path("store"))
        #expect(throws: GoldError.self) {
            try store.importImage(file: dir.path("absent.raw"), machine: "node1", change: .capture)
        }
        _ = try Self.sampleImage(dir.path("a.raw"))
        #expect(throws: GoldError.self) {
            try store.importImage(file: dir.path("a.raw"), machine: "node1", change: .provision, parent: 9)
        }
        #expect(throws: GoldError.self) {
            try store.importImage(file: dir.path("a.raw"), machine: "../etc", change: .provision)
        }
        #expect(try store.list(machine: "node1").isEmpty)
    }

    @Test func exportRawAndQcow2() async throws {
        try requireTool("/usr/bin/qemu-img", package: "qemu-utils")
        let dir = try TestDirectory()
        let store = ImageStore(root: dir.path("store"))
        let original = try Self.sampleImage(dir.path("a.raw"))
        try store.importImage(file: dir.path("a.raw"), machine: "node1", change: .provision)
        try await store.export(machine: "node1", version: 1, to: dir.path("out.raw"))
        #expect(try Data(contentsOf: dir.path("out.raw")) == original)
        try await store.export(machine: "node1", version: 1, to: dir.path("out.qcow2"), format: .qcow2)
        #expect(try sh("qemu-img info --output=json '\(dir.path("out.qcow2").path)'").contains("\"format\": \"qcow2\""))
        try sh("qemu-img compare -q -f raw -F qcow2 '\(dir.path("a.raw").path)' '\(dir.path("out.qcow2").path)'")
    }

    @Test func exportRefusesCorruptChunks() async throws {
        let dir = try TestDirectory()
        let store = ImageStore(root: dir.path("store"))
        _ = try Self.sampleImage(dir.path("a.raw"))
        try store.importImage(file: dir.path("a.raw"), machine: "node1", change: .provision)
        let hash = try #require(try store.manifest(machine: "node1", version: 1).disks[0].chunks[2])
        try Data(repeating: 0xAC, count: 1 << 20).write(to: store.chunks.url(for: hash))
        let error = await #expect(throws: GoldError.self) {
            try await store.export(machine: "node1", version: 1, to: dir.path("out.raw"))
        }
        #expect(error?.message.contains("chunk \(hash.hex) is corrupt") == true)
        #expect(!FileManager.default.fileExists(atPath: dir.path("out.raw").path))
    }

    @Test func garbageCollectionKeepsRetainedAndCurrentVersions() throws {
        let dir = try TestDirectory()
        let store = ImageStore(root: dir.path("store"))
        for variant in UInt8(1)...4 {
            _ = try Self.sampleImage(dir.path("v.raw"), variant: variant)
            try store.importImage(file: dir.path("v.raw"), machine: "node1", change: .softwareUpdate)
        }
        try store.setCurrent(machine: "node1", version: 2)
        let orphan = store.filesURL("node1", 7)  // what an import that stopped before its manifest leaves
        try Data("{}".utf8).write(to: orphan)
        let gc = try store.garbageCollect(keep: RetentionRule(keepLast: 1))
        #expect(!FileManager.default.fileExists(atPath: orphan.path))
        #expect(gc.removedVersions["node1"] == [1, 3])
        #expect(try store.list(machine: "node1") == [2, 4])
        #expect(gc.removedChunks == 2)  // variants 1 and 3; the 0xAB and 0xCD chunks are shared
        #expect(gc.bytesFreed == 2 << 20)
        for version in [2, 4] {
            for hash in try store.manifest(machine: "node1", version: version).disks[0].chunks.compactMap({ $0 }) {
                #expect(throws: Never.self) { try store.readChunk(hash) }
            }
        }
        #expect(try store.garbageCollect(keep: RetentionRule(keepLast: 1)).bytesFreed == 0)
    }

    /// The writer lock is a `flock` on `<store>/lock`: held by one `ImageStore`, it excludes another descriptor
    /// (another instance or process), which is what keeps an import's chunks from a concurrent collection.
    @Test func writerLockExcludesOtherInstancesAndProcesses() throws {
        let dir = try TestDirectory()
        let store = ImageStore(root: dir.path("store"))
        _ = try Self.sampleImage(dir.path("a.raw"))
        try store.importImage(file: dir.path("a.raw"), machine: "node1", change: .provision)
        let lockPath = store.root.appendingPathComponent("lock").path
        let other = ImageStore(root: store.root)
        try store.withWriteLock {
            let fd = open(lockPath, O_RDWR | O_CLOEXEC)
            defer { close(fd) }
            #expect(fd >= 0)
            #expect(flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK)
        }
        let fd = open(lockPath, O_RDWR | O_CLOEXEC)
        defer { close(fd) }
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        flock(fd, LOCK_UN)
        #expect(try other.garbageCollect(keep: RetentionRule(), dryRun: true).removedChunks == 0)
    }

    @Test func diffListsChangedFiles() throws {
        let dir = try TestDirectory()
        let store = ImageStore(root: dir.path("store"))
        _ = try Self.sampleImage(dir.path("a.raw"))
        func entry(_ path: String, _ sha: String) -> FileManifest.Entry {
            .init(path: path, kind: .file, mode: 0o644, uid: 0, gid: 0, size: 1, sha256: sha, target: nil)
        }
        try store.importImage(
            file: dir.path("a.raw"), machine: "n", change: .provision,
            files: FileManifest(entries: [entry("/etc/hostname", "a"), entry("/usr/bin/app", "b"), entry("/old", "c")]))
        try store.importImage(
            file: dir.path("a.raw"), machine: "n", change: .softwareUpdate,
            files: FileManifest(entries: [entry("/etc/hostname", "a"), entry("/usr/bin/app", "B"), entry("/new", "d")]))
        #expect(
            try store.diff(machine: "n", v1: 1, v2: 2).map(\.description) == [
                "added /new", "removed /old", "modified /usr/bin/app",
            ])
    }
}
