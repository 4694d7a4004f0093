import Crypto
import Foundation
import GoldImage
import Synchronization
import Testing

@testable import GoldAgentKit

/// Chunks from memory; the first fetch of `corruptOnce` arrives with a flipped byte, like a bad proxy.
final class MemoryChunks: ChunkSource, @unchecked Sendable {
    let chunks: [ChunkHash: [UInt8]]
    let corruptOnce: Mutex<Set<ChunkHash>>
    let fetches = Mutex(0)

    init(_ chunks: [[UInt8]], corruptOnce: Set<ChunkHash> = []) {
        var map: [ChunkHash: [UInt8]] = [:]
        for chunk in chunks { map[ChunkHash(of: chunk)] = chunk }
        self.chunks = map
        self.corruptOnce = Mutex(corruptOnce)
    }

    func chunk(_ hash: ChunkHash) async throws -> [UInt8] {
        fetches.withLock { $0 += 1 }
        guard var bytes = chunks[hash] else { throw AgentError("no chunk \(hash)") }
        if corruptOnce.withLock({ $0.remove(hash) != nil }) { bytes[7] ^= 0xff }
        return bytes
    }
}

@Suite struct ImageWriterTests {
    let chunkSize = 4096

    func image(_ fill: [UInt8?]) -> ([UInt8], DiskImageManifest, [[UInt8]]) {
        var bytes: [UInt8] = []
        var hashes: [ChunkHash?] = []
        var chunks: [[UInt8]] = []
        for value in fill {
            let chunk =
                value.map { v in (0..<chunkSize).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(v)) } }
                ?? [UInt8](repeating: 0, count: chunkSize)
            bytes += chunk
            hashes.append(value == nil ? nil : ChunkHash(of: chunk))
            if value != nil { chunks.append(chunk) }
        }
        let sha = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        return (
            bytes,
            DiskImageManifest(
                index: 0, device: nil, size: UInt64(bytes.count), sha256: sha, chunkSize: chunkSize, chunks: hashes),
            chunks
        )
    }

    func disk(_ size: Int, garbage: UInt8 = 0xaa) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("disk-\(UUID().uuidString)").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(repeating: garbage, count: size))
        return path
    }

    @Test func writesVerifiesThenMovesOnlyWhatDiffers() async throws {
        let (bytes, manifest, chunks) = image([1, nil, 2, 3, nil, 4, 5, 6])
        let path = try disk(bytes.count)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = ImageWriter(target: try FileBlockTarget(path: path), source: MemoryChunks(chunks))
        let first = try await writer.write(manifest)
        #expect(first.fetched == 6 && first.zeroed == 2)
        #expect(Array(FileManager.default.contents(atPath: path)!) == bytes)

        // Version 2 changes one chunk: only that one moves.
        let (bytes2, manifest2, chunks2) = image([1, nil, 2, 9, nil, 4, 5, 6])
        let source = MemoryChunks(chunks2)
        let second = try await ImageWriter(target: try FileBlockTarget(path: path), source: source).write(manifest2)
        #expect(second.fetched == 1 && second.unchanged == 7)
        #expect(source.fetches.withLock { $0 } == 1)
        #expect(Array(FileManager.default.contents(atPath: path)!) == bytes2)
    }

    @Test func aChunkCorruptedInTransitIsFetchedAgain() async throws {
        let (bytes, manifest, chunks) = image([1, 2, 3])
        let path = try disk(bytes.count)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bad = manifest.chunks[1]!
        let source = MemoryChunks(chunks, corruptOnce: [bad])
        let stats = try await ImageWriter(target: try FileBlockTarget(path: path), source: source).write(manifest)
        #expect(stats.refetched == 1 && stats.fetched == 3)
        #expect(stats.refetchedChunks == [1])
        #expect(Array(FileManager.default.contents(atPath: path)!) == bytes)
    }

    /// `.chunks` relies on the manifest's chunk list composing to its `sha256` (the store computes both in one pass);
    /// only `.image` hashes the whole disk once more, so only it catches a manifest whose `sha256` is not its chunks'.
    @Test func onlyImageVerificationChecksTheManifestsWholeImageSHA256() async throws {
        var (bytes, manifest, chunks) = image([1, nil, 2])
        manifest.sha256 = String(repeating: "0", count: 64)
        let path = try disk(bytes.count)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try await ImageWriter(
                target: try FileBlockTarget(path: path), source: MemoryChunks(chunks), verification: .image
            ).write(manifest)
            Issue.record("a disk that does not hash to the manifest's sha256 passed --verify image")
        } catch {
            #expect(
                "\(error)".contains(
                    "does not verify after writing: sha256 \(SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined())"
                ))
        }
        _ = try await ImageWriter(
            target: try FileBlockTarget(path: path), source: MemoryChunks(chunks), verification: .chunks
        ).write(manifest)
        #expect(Array(FileManager.default.contents(atPath: path)!) == bytes)
    }

    @Test func aManifestWhoseChunkListDoesNotCoverItsSizeIsRefused() async throws {
        var (bytes, manifest, chunks) = image([1, 2])
        manifest.size += 1
        let path = try disk(bytes.count)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try await ImageWriter(target: try FileBlockTarget(path: path), source: MemoryChunks(chunks)).write(
                manifest)
            Issue.record("a manifest with too few chunks for its size was written")
        } catch {
            #expect("\(error)".contains("3 chunks") && "\(error)".contains("lists 2"))
        }
        #expect(Array(FileManager.default.contents(atPath: path)!) == [UInt8](repeating: 0xaa, count: bytes.count))
    }

    @Test func aChunkThatStaysCorruptFailsNamingIt() async throws {
        let (bytes, manifest, _) = image([nil, 1])
        let path = try disk(bytes.count)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try await ImageWriter(target: try FileBlockTarget(path: path), source: MemoryChunks([]), maxFetches: 2)
                .write(manifest)
            Issue.record("a missing chunk was accepted")
        } catch {
            #expect(
                "\(error)".contains(
                    "chunk 1 of disk 0 (sha256 \(manifest.chunks[1]!.hex)) could not be fetched intact in 2 tries"))
        }
    }

    /// Where one byte goes wrong on the disk after the writer wrote it.
    enum Damage: String, CaseIterable, CustomTestStringConvertible {
        /// In a chunk of the image.
        case imageChunk
        /// In a zero range left as a hole in a sparse file (the check reads it only because it is no longer a hole).
        case holeOfSparseFile
        /// In a zero range the writer wrote zeros over (the disk held other bytes there).
        case zerosWrittenOverGarbage
        var testDescription: String { rawValue }
    }

    /// A disk that was written and then changed (one byte): writing the same version again reads and hashes the
    /// disk's chunks, rewrites only the changed one (fetching it when it is an image chunk) and the disk verifies.
    @Test(arguments: Damage.allCases, ImageWriter.Verification.allCases)
    func aByteChangedOnTheDiskAfterWritingIsFoundAndOnlyItsChunkRewritten(
        damage: Damage, verification: ImageWriter.Verification
    ) async throws {
        let (bytes, manifest, chunks) = image([1, nil, 2, nil, 3])
        let path: String
        if damage == .holeOfSparseFile {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("disk-\(UUID().uuidString)").path
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            #expect(truncate(path, off_t(bytes.count)) == 0)
        } else {
            path = try disk(bytes.count)
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first = try await ImageWriter(
            target: try FileBlockTarget(path: path), source: MemoryChunks(chunks), verification: verification
        ).write(manifest)
        #expect(first.zeroed == (damage == .holeOfSparseFile ? 0 : 2))
        #expect(Array(FileManager.default.contents(atPath: path)!) == bytes)

        let offset = damage == .imageChunk ? 2 * chunkSize + 1234 : 3 * chunkSize + 77
        var byte: UInt8 = bytes[offset] ^ 0x01
        let fd = open(path, O_RDWR)
        #expect(pwrite(fd, &byte, 1, off_t(offset)) == 1)
        close(fd)

        let source = MemoryChunks(chunks)
        let again = try await ImageWriter(
            target: try FileBlockTarget(path: path), source: source, verification: verification
        ).write(manifest)
        #expect(again.unchanged == 4)
        #expect(again.fetched == (damage == .imageChunk ? 1 : 0) && again.zeroed == (damage == .imageChunk ? 0 : 1))
        #expect(source.fetches.withLock { $0 } == again.fetched)
        #expect(again.bytesWritten == UInt64(chunkSize))
        #expect(Array(FileManager.default.contents(atPath: path)!) == bytes)
    }

    /// A disk that stores one byte of a write wrong, in a chunk of the image or in a zero range it had to write
    /// zeros over (it held other bytes there): the read-back right after that write catches it, with either mode.
    @Test(arguments: [(2, 2 * 4096 + 1234), (3, 3 * 4096 + 77)], ImageWriter.Verification.allCases)
    func oneByteStoredWrongFailsTheWriteNamingTheChunk(
        wrong: (chunk: Int, offset: Int), verification: ImageWriter.Verification
    ) async throws {
        let (bytes, manifest, chunks) = image([1, nil, 2, nil, 3])
        let path = try disk(bytes.count)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let target = FlippingTarget(try FileBlockTarget(path: path), at: UInt64(wrong.offset))
        do {
            _ = try await ImageWriter(target: target, source: MemoryChunks(chunks), verification: verification).write(
                manifest)
            Issue.record("a disk with a wrong byte at \(wrong.offset) verified")
        } catch {
            let start = wrong.chunk * chunkSize
            #expect(
                "\(error)".contains(
                    "does not verify after writing: chunk \(wrong.chunk) (bytes \(start)..<\(start + chunkSize)) reads back with byte \(wrong.offset) = "
                        + "\(bytes[wrong.offset] ^ 1), written as \(bytes[wrong.offset])"))
        }
    }

    /// A disk that loses one write: the writer's own read-back catches it.
    @Test func aWriteTheDiskLostFailsTheWrite() async throws {
        let (bytes, manifest, chunks) = image([1, 2, 3])
        let path = try disk(bytes.count)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let target = LosingTarget(try FileBlockTarget(path: path), loses: UInt64(chunkSize))
        do {
            _ = try await ImageWriter(target: target, source: MemoryChunks(chunks)).write(manifest)
            Issue.record("a lost write verified")
        } catch {
            #expect(
                "\(error)".contains(
                    "chunk 1 (bytes \(chunkSize)..<\(2 * chunkSize)) reads back with byte \(chunkSize) = 170, written as "
                ))
        }
    }
}

/// A write that lands on another chunk than the one it was meant for (here on chunk 0, written before): the chunk it
/// was meant for is then wrong too, so the check finds it even if it checked chunk 0 before the stray write.
@Test func aWriteThatLandsOnAnotherChunkFailsTheWrite() async throws {
    let chunkSize = 4096
    let chunks: [[UInt8]] = (1...4).map { v in (0..<chunkSize).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ v) } }
    let bytes = chunks.flatMap { $0 }
    let sha = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    let manifest = DiskImageManifest(
        index: 0, device: nil, size: UInt64(bytes.count), sha256: sha, chunkSize: chunkSize,
        chunks: chunks.map { ChunkHash(of: $0) })
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("disk-\(UUID().uuidString)").path
    #expect(FileManager.default.createFile(atPath: path, contents: Data(repeating: 0xaa, count: bytes.count)))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let target = MisdirectingTarget(try FileBlockTarget(path: path), from: UInt64(3 * chunkSize), to: 0)
    do {
        _ = try await ImageWriter(target: target, source: MemoryChunks(chunks), window: 1).write(manifest)
        Issue.record("a misdirected write verified")
    } catch {
        let text = "\(error)"
        #expect(
            text.contains("does not verify after writing: chunk 3 ")
                || text.contains("does not verify after writing: chunk 0 "))
    }
}

/// A disk that puts the write meant for offset `from` at offset `to`.
struct MisdirectingTarget: BlockTarget {
    let inner: FileBlockTarget
    let from: UInt64
    let to: UInt64
    init(_ inner: FileBlockTarget, from: UInt64, to: UInt64) {
        self.inner = inner
        self.from = from
        self.to = to
    }
    func read(offset: UInt64, count: Int) throws -> [UInt8] { try inner.read(offset: offset, count: count) }
    func write(offset: UInt64, bytes: [UInt8]) throws {
        try inner.write(offset: offset == from ? to : offset, bytes: bytes)
    }
    func flush() throws { try inner.flush() }
}

/// A disk that stores the byte at offset `at` with its lowest bit flipped, whenever a write covers it.
struct FlippingTarget: BlockTarget {
    let inner: FileBlockTarget
    let at: UInt64
    init(_ inner: FileBlockTarget, at: UInt64) {
        self.inner = inner
        self.at = at
    }
    func read(offset: UInt64, count: Int) throws -> [UInt8] { try inner.read(offset: offset, count: count) }
    func write(offset: UInt64, bytes: [UInt8]) throws {
        var bytes = bytes
        if (offset..<offset + UInt64(bytes.count)).contains(at) { bytes[Int(at - offset)] ^= 1 }
        try inner.write(offset: offset, bytes: bytes)
    }
    func flush() throws { try inner.flush() }
}

/// A disk that silently drops the write at one offset.
struct LosingTarget: BlockTarget {
    let inner: FileBlockTarget
    let loses: UInt64
    init(_ inner: FileBlockTarget, loses: UInt64) {
        self.inner = inner
        self.loses = loses
    }
    func read(offset: UInt64, count: Int) throws -> [UInt8] { try inner.read(offset: offset, count: count) }
    func write(offset: UInt64, bytes: [UInt8]) throws {
        if offset != loses { try inner.write(offset: offset, bytes: bytes) }
    }
    func flush() throws { try inner.flush() }
}
