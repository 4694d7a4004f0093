import ArgumentParser
import Foundation
import GoldImage
import Testing

@testable import GoldAgentKit

/// `gold-agent write-image`: an image imported into a store directory, written back out through ``StoreChunkSource``.
@Suite struct StoreChunkSourceTests {
    let chunkSize = 4096

    /// A scratch directory; each test removes its own with `defer { scratch.remove() }`.
    struct Scratch {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("store-source-\(UUID().uuidString)")
        init() throws { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
        func path(_ name: String) -> String { url.appendingPathComponent(name).path }
        func remove() { try? FileManager.default.removeItem(at: url) }
    }

    /// Chunk-sized pieces: a number is a distinct pattern, nil is zeros. Returns the image's bytes.
    func imageFile(_ fill: [UInt8?], at path: String, tail: Int = 0) -> [UInt8] {
        var bytes: [UInt8] = []
        for value in fill {
            bytes +=
                value.map { v in (0..<chunkSize).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(v)) } }
                ?? [UInt8](repeating: 0, count: chunkSize)
        }
        bytes += (0..<tail).map { UInt8(truncatingIfNeeded: $0 &+ 99) }
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return bytes
    }

    func importedStore(_ scratch: Scratch, _ fill: [UInt8?], tail: Int = 0) throws -> (ImageStore, [UInt8]) {
        let bytes = imageFile(fill, at: scratch.path("image.raw"), tail: tail)
        let store = ImageStore(root: scratch.url.appendingPathComponent("store"), chunkSize: chunkSize)
        try store.importImage(file: scratch.url.appendingPathComponent("image.raw"), machine: "web-1", change: .capture)
        return (store, bytes)
    }

    @Test func writesAnImportedImageIntoANewFileLeavingZeroRangesAsHoles() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (store, bytes) = try importedStore(scratch, [1, nil, nil, 2, 3, nil, 4], tail: 1000)
        let disk = try store.manifest(machine: "web-1", version: 1).disks[0]
        let target = scratch.path("target.raw")
        try WriteImageCommand.prepare(target, size: disk.size, create: true)
        let stats = try await ImageWriter(
            target: try FileBlockTarget(path: target), source: StoreChunkSource(store: store)
        )
        .write(disk)
        #expect(Array(FileManager.default.contents(atPath: target)!) == bytes)
        #expect(stats.chunks == 8 && stats.fetched == 5 && stats.zeroed == 0 && stats.unchanged == 3)
        #expect(stats.bytesWritten == UInt64(4 * chunkSize + 1000))
    }

    @Test func theCommandWritesTheCurrentVersionAndOnlyWhatChangedTheSecondTime() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (store, _) = try importedStore(scratch, [1, nil, 2, 3])
        let second = imageFile([1, nil, 2, 9], at: scratch.path("v2.raw"))
        try store.importImage(file: scratch.url.appendingPathComponent("v2.raw"), machine: "web-1", change: .capture)
        let target = scratch.path("disk.raw")
        _ = FileManager.default.createFile(atPath: target, contents: Data(repeating: 0xaa, count: 2 * chunkSize))

        let first = try WriteImageCommand.parse([
            "--store", store.root.path, "--machine", "web-1", "--version", "1", "--target", target, "--json",
        ])
        try await first.run()
        // The short garbage file was extended; its garbage chunk 1 had to be zeroed.
        let v1 = try store.read(machine: "web-1", version: 1, offset: 0, count: 4 * chunkSize)
        #expect(FileManager.default.contents(atPath: target) == v1)

        let latest = try WriteImageCommand.parse(["--store", store.root.path, "--machine", "web-1", "--target", target])
        try await latest.run()
        #expect(Array(FileManager.default.contents(atPath: target)!) == second)
    }

    @Test func aCorruptChunkInTheStoreFailsTheWriteNamingIt() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (store, _) = try importedStore(scratch, [1, 2])
        let disk = try store.manifest(machine: "web-1", version: 1).disks[0]
        let bad = try #require(disk.chunks[1])
        var stored = try Data(contentsOf: store.chunks.url(for: bad))
        stored[10] ^= 0x01
        try stored.write(to: store.chunks.url(for: bad))
        let target = scratch.path("target.raw")
        try WriteImageCommand.prepare(target, size: disk.size, create: true)
        do {
            _ = try await ImageWriter(target: try FileBlockTarget(path: target), source: StoreChunkSource(store: store))
                .write(disk)
            Issue.record("a corrupt chunk was written")
        } catch {
            #expect("\(error)".contains(bad.hex) && "\(error)".contains("corrupt"))
        }
    }

    @Test func aMissingChunkNamesItAndTheStore() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (store, _) = try importedStore(scratch, [1])
        let hash = try #require(try store.manifest(machine: "web-1", version: 1).disks[0].chunks[0])
        try FileManager.default.removeItem(at: store.chunks.url(for: hash))
        do {
            _ = try await StoreChunkSource(store: store).chunk(hash)
            Issue.record("a missing chunk was returned")
        } catch {
            #expect("\(error)".contains(hash.hex) && "\(error)".contains(store.root.path))
        }
    }

    /// Given `--target`s, the disks' devices, the targets chosen (nil: refused).
    static let targetCases: [([String], [String?], [String]?)] = [
        ([], ["/dev/vda"], ["/dev/vda"]),
        (["/tmp/a.raw"], ["/dev/vda"], ["/tmp/a.raw"]),
        ([], [nil], nil),
        ([], ["/dev/vda", nil], nil),
        (["/tmp/a.raw"], ["/dev/vda", "/dev/vdb"], nil),
        (["/tmp/a.raw", "/tmp/b.raw"], ["/dev/vda", nil], ["/tmp/a.raw", "/tmp/b.raw"]),
    ]

    @Test(arguments: targetCases)
    func targetsComeFromTheFlagsElseTheImagesDevices(given: [String], devices: [String?], expected: [String]?) {
        let disks = devices.enumerated().map { index, device in
            DiskImageManifest(
                index: index, device: device, size: 0, sha256: String(repeating: "0", count: 64), chunkSize: 4096,
                chunks: [])
        }
        let manifest = ImageManifest(
            machine: "web-1", version: 3, parent: nil, change: .capture, description: "", created: 0, disks: disks)
        #expect((try? WriteImageCommand.targets(given, for: manifest)) == expected)
    }

    /// A hole may be reported as data (some file systems do), data never as a hole; past the end is a hole.
    @Test func aFileTargetNeverCallsDataAHole() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = scratch.path("sparse.raw")
        try WriteImageCommand.prepare(path, size: UInt64(8 * chunkSize), create: true)
        let target = try FileBlockTarget(path: path)
        try target.write(offset: UInt64(5 * chunkSize + 100), bytes: [1])
        try target.flush()
        #expect(!target.isHole(offset: UInt64(5 * chunkSize), count: chunkSize))
        #expect(!target.isHole(offset: 0, count: 8 * chunkSize))
        #expect(!target.isHole(offset: UInt64(4 * chunkSize), count: 2 * chunkSize))
        #expect(target.isHole(offset: UInt64(8 * chunkSize), count: chunkSize))
    }

    @Test func aMissingDeviceTheImageNamesIsNeverCreated() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = scratch.path("vda")
        #expect(throws: AgentError.self) { try WriteImageCommand.prepare(path, size: 4096, create: false) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
