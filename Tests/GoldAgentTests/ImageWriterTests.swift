import Crypto
import Foundation
@testable import GoldAgentKit
import GoldImage
import Synchronization
import Testing

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
            let chunk = value.map { v in (0..<chunkSize).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(v)) } } ?? [UInt8](repeating: 0, count: chunkSize)
            bytes += chunk
            hashes.append(value == nil ? nil : ChunkHash(of: chunk))
            if value != nil { chunks.append(chunk) }
        }
        let sha = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        return (bytes, DiskImageManifest(index: 0, device: nil, size: UInt64(bytes.count), sha256: sha, chunkSize: chunkSize, chunks: hashes), chunks)
    }

    func disk(_ size: Int, garbage: UInt8 = 0xaa) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("disk-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: path, contents: Data(repeating: garbage, count: size))
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
        #expect(Array(FileManager.default.contents(atPath: path)!) == bytes)
    }

    @Test func aDiskThatDoesNotVerifyFailsTheWrite() async throws {
        var (bytes, manifest, chunks) = image([1, 2])
        manifest.sha256 = String(repeating: "0", count: 64)
        let path = try disk(bytes.count)
        defer { try? FileManager.default.removeItem(atPath: path) }
        await #expect(throws: AgentError.self) {
            _ = try await ImageWriter(target: try FileBlockTarget(path: path), source: MemoryChunks(chunks)).write(manifest)
        }
        _ = bytes
    }

    @Test func aChunkThatStaysCorruptFailsNamingIt() async throws {
        let (bytes, manifest, _) = image([1])
        let path = try disk(bytes.count)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try await ImageWriter(target: try FileBlockTarget(path: path), source: MemoryChunks([]), maxFetches: 2).write(manifest)
            Issue.record("a missing chunk was accepted")
        } catch {
            #expect("\(error)".contains(manifest.chunks[0]!.hex))
        }
    }
}
