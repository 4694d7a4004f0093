import Crypto
import Foundation
import GoldCore
import Testing

@testable import GoldImage

/// The store's side of a capture: missing chunks, verified uploads, a commit that is complete or absent.
@Suite struct ImageCaptureTests {
    /// The manifest the agent would submit for `data`, chunked like the store.
    static func manifest(of data: Data, index: Int = 0, chunkSize: Int = ChunkStore.defaultChunkSize)
        -> DiskImageManifest
    {
        var chunks: [ChunkHash?] = []
        var offset = 0
        while offset < data.count {
            let piece = data.subdata(in: offset..<min(data.count, offset + chunkSize))
            chunks.append(piece.allSatisfy { $0 == 0 } ? nil : ChunkHash(of: piece))
            offset += chunkSize
        }
        return DiskImageManifest(
            index: index, device: "/dev/vda", size: UInt64(data.count), sha256: ChunkHash(of: data).hex,
            chunkSize: chunkSize,
            chunks: chunks)
    }

    static func chunk(_ data: Data, _ i: Int) -> Data {
        data.subdata(in: i << 20..<min(data.count, (i + 1) << 20))
    }

    /// Version 1 imported; the "disk" is version 1 with a few bytes changed in chunk 2.
    static func setUp(_ dir: TestDirectory) throws -> (ImageStore, Data) {
        let store = ImageStore(root: dir.path("store"))
        let base = try ImageStoreTests.sampleImage(dir.path("v1.raw"))
        try store.importImages(
            files: [dir.path("v1.raw")], devices: ["/dev/vda"], machine: "web-01", change: .provision)
        var disk = base
        disk.replaceSubrange((2 << 20) + 4096..<(2 << 20) + 4100, with: [1, 2, 3, 4])
        return (store, disk)
    }

    @Test func onlyMissingChunksMoveAndTheCommitIsTheDisk() throws {
        let dir = try TestDirectory()
        let (store, disk) = try Self.setUp(dir)
        let manifest = Self.manifest(of: disk)
        #expect(manifest.chunks.count == 5 && manifest.chunks[1] == nil)
        let missing = store.missingChunks(manifest.chunks.compactMap { $0 })
        #expect(missing == [manifest.chunks[2]!])

        #expect(try store.putUploadedChunk(Self.chunk(disk, 2), expected: missing[0]))
        // Already there: nothing written.
        #expect(try !store.putUploadedChunk(Self.chunk(disk, 2), expected: missing[0]))
        let recorded = try store.commitCapture(machine: "web-01", disks: [manifest], parent: 1, description: "captured")
        #expect(recorded.version == 2 && recorded.parent == 1 && recorded.change == .capture)
        #expect(try store.currentVersion(machine: "web-01") == 2)
        #expect(try store.read(machine: "web-01", version: 2, offset: 0, count: disk.count) == disk)
        let detail = try store.detail(machine: "web-01", version: 2)
        #expect(detail.newChunks == 1 && detail.change == "capture")

        let diff = try store.chunkDiff(machine: "web-01", v1: 1, v2: 2)
        #expect(diff.changedChunks == 1 && diff.disks[0].ranges == [.init(offset: 2 << 20, length: 1 << 20)])
    }

    @Test func aCommitNamingAbsentChunksRecordsNothing() throws {
        let dir = try TestDirectory()
        let (store, disk) = try Self.setUp(dir)
        let manifest = Self.manifest(of: disk)
        let error = try #require(throws: MissingChunksError.self) {
            try store.commitCapture(machine: "web-01", disks: [manifest], parent: 1, description: "")
        }
        #expect(error.missing == [manifest.chunks[2]!])
        #expect(error.description.contains(manifest.chunks[2]!.hex))
        #expect(try store.list(machine: "web-01") == [1])
        #expect(try store.currentVersion(machine: "web-01") == 1)
    }

    @Test func aDamagedUploadIsRefusedAndNotStored() throws {
        let dir = try TestDirectory()
        let (store, disk) = try Self.setUp(dir)
        let hash = ChunkHash(of: Self.chunk(disk, 2))
        var damaged = Self.chunk(disk, 2)
        damaged[17] ^= 0x40
        let error = try #require(throws: GoldError.self) { try store.putUploadedChunk(damaged, expected: hash) }
        #expect(
            error.location == "body"
                && error.message.contains("hashes to \(ChunkHash(of: damaged).hex), not \(hash.hex)"))
        #expect(!store.chunks.contains(hash) && !store.chunks.contains(ChunkHash(of: damaged)))

        let zero = try #require(throws: GoldError.self) {
            try store.putUploadedChunk(Data(count: 4096), expected: ChunkHash(of: Data(count: 4096)))
        }
        #expect(zero.message.contains("all-zero"))
        let big = Data(repeating: 7, count: (1 << 20) + 1)
        let tooBig = try #require(throws: GoldError.self) {
            try store.putUploadedChunk(big, expected: ChunkHash(of: big))
        }
        #expect(tooBig.message.contains("at most 1048576"))
    }

    @Test func aManifestWhoseChunksDoNotMakeItsHashIsRefused() throws {
        let dir = try TestDirectory()
        let (store, disk) = try Self.setUp(dir)
        try store.putUploadedChunk(Self.chunk(disk, 2), expected: ChunkHash(of: Self.chunk(disk, 2)))
        var manifest = Self.manifest(of: disk)
        manifest.sha256 = String(repeating: "a", count: 64)
        let error = try #require(throws: GoldError.self) {
            try store.commitCapture(machine: "web-01", disks: [manifest], parent: 1, description: "")
        }
        #expect(error.location == "body.disks[0].sha256")
        // A chunk moved to another place: its length no longer fits the short tail.
        var swapped = Self.manifest(of: disk)
        swapped.chunks[4] = swapped.chunks[0]
        let length = try #require(throws: GoldError.self) {
            try store.commitCapture(machine: "web-01", disks: [swapped], parent: 1, description: "")
        }
        #expect(length.location == "body.disks[0].chunks[4]")
        #expect(try store.list(machine: "web-01") == [1])
    }

    @Test(arguments: [
        ("index", "body.disks[0].index"), ("chunkSize", "body.disks[0].chunkSize"), ("chunks", "body.disks[0].chunks"),
        ("sha256", "body.disks[0].sha256"), ("size", "body.disks[0].size"), ("device", "body.disks[0].device"),
        ("size past UInt64 (crashed the director)", "body.disks[0].size"),
        ("size past the limit", "body.disks[0].size"),
    ])
    func malformedDisksAreNamed(field: String, location: String) throws {
        var disk = Self.manifest(of: Data(repeating: 1, count: 3 << 20))
        switch field {
        case "index": disk.index = 1
        case "chunkSize": disk.chunkSize = 4096
        case "chunks": disk.chunks.removeLast()
        case "sha256": disk.sha256 = "ABC"
        case "size": disk.size = 0
        case "size past UInt64 (crashed the director)": disk.size = .max
        case "size past the limit": disk.size = (1 << 56) + 1
        default: disk.device = "vda"
        }
        let error = try #require(throws: GoldError.self) { try ImageCapture.validate([disk], chunkSize: 1 << 20) }
        #expect(error.location == location, "\(error)")
        #expect(throws: GoldError.self) { try ImageCapture.validate([], chunkSize: 1 << 20) }
    }

    @Test func disksComeFromTheFleetFileElseTheParent() {
        let spec = [
            DiskSpec(device: "/dev/sda", size: ByteSize(bytes: 1 << 30)),
            DiskSpec(serial: "S123", size: ByteSize(bytes: 1 << 30)),
        ]
        let parent = ImageManifest(
            machine: "m", version: 4, parent: 3, change: .provision, description: "", created: 0,
            disks: [DiskImageManifest(index: 0, device: "/dev/vda", size: 1, sha256: "", chunkSize: 1, chunks: [nil])])
        #expect(
            ImageCapture.disks(spec: spec, parent: parent) == [
                .init(index: 0, device: "/dev/sda"), .init(index: 1, device: nil, serial: "S123"),
            ])
        #expect(ImageCapture.disks(spec: [], parent: parent) == [.init(index: 0, device: "/dev/vda")])
        #expect(ImageCapture.disks(spec: [], parent: nil).isEmpty)
    }

    @Test func chunkDiffCoversGrownDisksAndNewDisks() {
        let a = Self.manifest(of: Data(repeating: 1, count: (2 << 20) + 10))
        var bytes = Data(repeating: 1, count: 3 << 20)
        bytes[0] = 9
        let b = Self.manifest(of: bytes)
        let old = ImageManifest(
            machine: "m", version: 1, parent: nil, change: .provision, description: "", created: 0, disks: [a])
        let new = ImageManifest(
            machine: "m", version: 2, parent: 1, change: .capture, description: "", created: 0,
            disks: [b, Self.manifest(of: Data(repeating: 2, count: 100), index: 1)])
        let diff = ChunkDiff(from: old, to: new)
        // Chunk 0 changed; chunk 2 grew from 10 bytes to 1 MiB; disk 1 is new.
        #expect(diff.disks[0].ranges == [.init(offset: 0, length: 1 << 20), .init(offset: 2 << 20, length: 1 << 20)])
        #expect(diff.disks[0].changedChunks == 2 && diff.disks[0].sizes == [(2 << 20) + 10, 3 << 20])
        #expect(diff.disks[1].ranges == [.init(offset: 0, length: 100)] && diff.disks[1].sizes == [0, 100])
        #expect(ChunkDiff(from: old, to: old).changedChunks == 0)
    }
}
