import Foundation
import GoldImage
import Testing

@testable import GoldAgentKit

/// The agent's capture against an in-memory store: what is read, asked, uploaded and committed.
@Suite struct DiskCaptureTests {
    static let chunk = 64 << 10

    /// A disk in memory.
    struct MemoryDisk: DiskSource {
        let path: String
        let bytes: [UInt8]
        var size: UInt64 { UInt64(bytes.count) }
        func read(offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
            let start = min(Int(offset), bytes.count)
            let n = min(buffer.count, bytes.count - start)
            bytes.withUnsafeBytes { raw in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[start..<start + n]))
            }
            if n < buffer.count { memset(buffer.baseAddress! + n, 0, buffer.count - n) }
        }
    }

    /// A store that checks every upload, refuses some on purpose and can lose chunks before a commit.
    actor Sink: CaptureSink {
        var chunks: [ChunkHash: [UInt8]]
        var refuse: [ChunkHash: Int] = [:]
        var loseBeforeFirstCommit: [ChunkHash] = []
        var asks: [[ChunkHash]] = []
        var uploads: [ChunkHash] = []
        var commits: [[DiskImageManifest]] = []

        init(holding: [[UInt8]]) {
            chunks = Dictionary(holding.map { (ChunkHash(of: $0), $0) }, uniquingKeysWith: { a, _ in a })
        }

        func set(refuse: [ChunkHash: Int] = [:], lose: [ChunkHash] = []) {
            self.refuse = refuse
            loseBeforeFirstCommit = lose
        }

        func missing(_ hashes: [ChunkHash]) async throws -> [ChunkHash] {
            asks.append(hashes)
            return hashes.filter { chunks[$0] == nil }
        }

        func upload(_ hash: ChunkHash, _ bytes: [UInt8]) async throws {
            uploads.append(hash)
            if let left = refuse[hash], left > 0 {
                refuse[hash] = left - 1
                throw AgentError("refused: damaged on the way")
            }
            guard ChunkHash(of: bytes) == hash else { throw AgentError("wrong bytes for \(hash)") }
            chunks[hash] = bytes
        }

        func commit(_ disks: [DiskImageManifest], description: String) async throws -> ImageCapture.Result {
            if commits.isEmpty && !loseBeforeFirstCommit.isEmpty {
                for hash in loseBeforeFirstCommit { chunks[hash] = nil }
            }
            commits.append(disks)
            let absent = ImageCapture.distinctChunks(disks).filter { chunks[$0] == nil }
            guard absent.isEmpty else { throw MissingChunksError(missing: absent) }
            return ImageCapture.Result(
                machine: "m", version: commits.count, parent: nil, change: "capture", current: true, disks: disks.count,
                size: 0,
                chunks: 0, zeroChunks: 0, uploadedChunks: 0, uploadedBytes: 0, alreadyStored: 0)
        }
    }

    /// `count` chunks: chunk i filled with byte i+1, except the zero ones; the last one short.
    static func disk(_ count: Int, zero: Set<Int> = [], tail: Int = 1000) -> [UInt8] {
        var bytes: [UInt8] = []
        for i in 0..<count {
            let length = i == count - 1 ? tail : chunk
            bytes += [UInt8](repeating: zero.contains(i) ? 0 : UInt8(i + 1), count: length)
        }
        return bytes
    }

    static func piece(_ bytes: [UInt8], _ i: Int) -> [UInt8] {
        Array(bytes[i * chunk..<min(bytes.count, (i + 1) * chunk)])
    }

    @Test func onlyTheChunksTheStoreLacksMove() async throws {
        let old = Self.disk(10, zero: [3, 4])
        var new = old
        new[2 * Self.chunk + 77] = 0xEE
        let sink = Sink(holding: (0..<10).map { Self.piece(old, $0) })
        let capture = DiskCapture(chunkSize: Self.chunk, batch: 3)
        let (result, manifests, stats) = try await capture.run(
            [.init(index: 0, device: "/dev/vda", source: MemoryDisk(path: "/dev/vda", bytes: new))], into: sink,
            description: "t")
        #expect(result.version == 1)
        #expect(await sink.uploads == [ChunkHash(of: Self.piece(new, 2))])
        #expect(await sink.asks.count == 1)
        #expect(
            stats.chunks == 10 && stats.zero == 2 && stats.uploaded == 1 && stats.alreadyStored == 7
                && stats.resent == 0)
        #expect(stats.uploadedBytes == UInt64(Self.chunk) && stats.bytesRead == UInt64(new.count))
        #expect(stats.summary == "10 chunks, 1 uploaded (0.1 MiB), 7 already stored, 2 zero")
        let manifest = manifests[0]
        #expect(
            manifest.sha256 == ChunkHash(of: new).hex && manifest.size == UInt64(new.count)
                && manifest.device == "/dev/vda")
        #expect(manifest.chunks == (0..<10).map { [3, 4].contains($0) ? nil : ChunkHash(of: Self.piece(new, $0)) })
        #expect(manifest.chunks.count == 10 && manifest.length(ofChunk: 9) == 1000)
    }

    @Test func aRefusedUploadIsSentAgainAndOneThatStaysRefusedFailsNamingIt() async throws {
        let bytes = Self.disk(4)
        let hash = ChunkHash(of: Self.piece(bytes, 1))
        let sink = Sink(holding: [Self.piece(bytes, 0), Self.piece(bytes, 2), Self.piece(bytes, 3)])
        await sink.set(refuse: [hash: 1])
        let (_, _, stats) = try await DiskCapture(chunkSize: Self.chunk).run(
            [.init(index: 0, device: nil, source: MemoryDisk(path: "/dev/sda", bytes: bytes))], into: sink,
            description: "")
        #expect(stats.uploaded == 1 && stats.resent == 1 && stats.summary.hasSuffix(", 1 sent again"))
        #expect(await sink.uploads == [hash, hash])

        let stubborn = Sink(holding: [])
        await stubborn.set(refuse: [ChunkHash(of: Self.piece(bytes, 0)): 10])
        let error = await #expect(throws: AgentError.self) {
            try await DiskCapture(chunkSize: Self.chunk, maxSends: 3).run(
                [.init(index: 0, device: nil, source: MemoryDisk(path: "/dev/sda", bytes: bytes))], into: stubborn,
                description: "")
        }
        #expect(
            error?.description.contains("chunk 0 of /dev/sda") == true
                && error?.description.contains("after 3 sends") == true)
        #expect(await stubborn.commits.isEmpty)
    }

    @Test func chunksLostBeforeTheCommitAreUploadedAgain() async throws {
        let bytes = Self.disk(5)
        let held = (0..<5).map { Self.piece(bytes, $0) }
        let sink = Sink(holding: Array(held.dropFirst()))
        // Garbage collection removes the chunk just uploaded and one that was already stored.
        await sink.set(lose: [ChunkHash(of: held[0]), ChunkHash(of: held[3])])
        let (result, _, stats) = try await DiskCapture(chunkSize: Self.chunk).run(
            [.init(index: 0, device: nil, source: MemoryDisk(path: "/dev/sda", bytes: bytes))], into: sink,
            description: "")
        let commits = await sink.commits
        #expect(result.version == 2 && commits.count == 2)
        #expect(await sink.uploads == [ChunkHash(of: held[0]), ChunkHash(of: held[0]), ChunkHash(of: held[3])])
        #expect(stats.uploaded == 2 && stats.resent == 1 && stats.alreadyStored == 3)
    }

    @Test func severalDisksAreAskedAboutOnceAndRepeatsMoveOnce() async throws {
        let a = Self.disk(3, tail: Self.chunk)
        let b = Self.disk(2, tail: 10)  // its chunk 0 is a's chunk 0
        let sink = Sink(holding: [])
        let (_, manifests, stats) = try await DiskCapture(chunkSize: Self.chunk).run(
            [
                .init(index: 0, device: "/dev/vda", source: MemoryDisk(path: "/dev/vda", bytes: a)),
                .init(index: 1, device: "/dev/vdb", source: MemoryDisk(path: "/dev/vdb", bytes: b)),
            ], into: sink, description: "")
        let asks = await sink.asks
        #expect(asks.count == 1 && asks[0].count == 4)
        #expect(await sink.uploads.count == 4)
        #expect(stats.chunks == 5 && stats.uploaded == 4 && stats.repeats == 1)
        #expect(manifests.map(\.index) == [0, 1] && manifests[1].chunks[0] == manifests[0].chunks[0])
    }
}
