import Crypto
import Foundation
import GoldCore
import GoldImage
import GoldSpawn

/// Where the writer reads and writes: a block device in the netboot environment, a file in tests.
public protocol BlockTarget: Sendable {
    func read(offset: UInt64, count: Int) throws -> [UInt8]
    /// Fills `buffer` from `offset` (zeros past the end), into memory the caller reuses.
    func read(offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws
    func write(offset: UInt64, bytes: [UInt8]) throws
    func flush() throws
    /// True only when the range is known to read as zeros without reading it (a hole in a sparse file).
    func isHole(offset: UInt64, count: Int) -> Bool
    /// A hint that a written range may go to the medium now; ``flush()`` still decides.
    func startWriteback(offset: UInt64, count: Int)
}

extension BlockTarget {
    public func isHole(offset: UInt64, count: Int) -> Bool { false }
    public func startWriteback(offset: UInt64, count: Int) {}
    public func read(offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        let bytes = try read(offset: offset, count: buffer.count)
        let n = min(bytes.count, buffer.count)
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        if n < buffer.count {
            UnsafeMutableRawBufferPointer(rebasing: buffer[n...]).initializeMemory(as: UInt8.self, repeating: 0)
        }
    }
}

/// Where chunks come from: the deploy server's `/chunks/<sha256>`.
public protocol ChunkSource: Sendable {
    func chunk(_ hash: ChunkHash) async throws -> [UInt8]
}

/// Writes one disk of an image version: only the chunks that differ from what the disk holds are fetched (delta
/// re-image), every fetched chunk is verified before it is written (and fetched again when corrupt, up to
/// `maxFetches` times), and every chunk of the disk is checked once its final bytes are in place (see
/// ``Verification``). A mismatch fails the write: it is never booted.
///
/// Up to `window` chunks ahead of the one being written are compared with the disk and fetched at once (reading
/// and hashing on other cores, hiding the deploy server's latency); writes stay in order, one chunk at a time.
public struct ImageWriter: Sendable {
    public struct Stats: Sendable, Hashable, Codable {
        public var chunks = 0
        public var unchanged = 0
        public var fetched = 0
        public var zeroed = 0
        public var refetched = 0
        /// The chunks (by index on the disk) that arrived corrupt, or not at all, and were fetched again.
        public var refetchedChunks: [Int] = []
        public var bytesFetched: UInt64 = 0
        public var bytesWritten: UInt64 = 0
    }

    public let target: any BlockTarget
    public let source: any ChunkSource
    public let maxFetches: Int
    public let window: Int
    public let verification: Verification

    public init(
        target: any BlockTarget, source: any ChunkSource, maxFetches: Int = 4, window: Int = 16,
        verification: Verification = .image
    ) {
        self.target = target
        self.source = source
        self.maxFetches = max(1, maxFetches)
        self.window = max(1, window)
        self.verification = verification
    }

    /// What one chunk needs, decided before it is written.
    struct Planned: Sendable {
        enum Action: Sendable {
            /// The disk already holds the chunk: its bytes (`held`, nil when it is a hole) hashed to the manifest's
            /// hash, or it is a zero range that reads as zeros (or is a hole). That comparison is this chunk's check.
            case unchanged(held: [UInt8]?)
            case write([UInt8])
            case zero
        }
        var action: Action
        /// What fetching it took (fetched, refetched, bytesFetched).
        var stats = Stats()
    }

    /// The disk's bytes in order, through one SHA-256 on a task of its own (``Verification/image``): each piece waits
    /// for the one before, and the writer waits when `backlog` pieces are queued, so at most that many chunks of
    /// read-back bytes are held.
    struct ImageHash {
        enum Piece: Sendable {
            case bytes([UInt8])
            case zeros(Int)
        }
        let zeros: [UInt8]
        let backlog: Int
        private var queued: [Task<SHA256, Never>] = []
        private var last: Task<SHA256, Never>?

        init(chunkSize: Int, backlog: Int) {
            zeros = [UInt8](repeating: 0, count: chunkSize)
            self.backlog = max(1, backlog)
        }

        mutating func add(_ piece: Piece) async {
            let previous = last
            let zeros = self.zeros
            // A chain: each piece's task awaits the one before; `digest()` awaits the last. None outlives the writer.
            let next = Task {
                var hasher = await previous?.value ?? SHA256()
                switch piece {
                case .bytes(let bytes): hasher.update(data: bytes)
                case .zeros(let count):
                    zeros.withUnsafeBytes {
                        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<count]))
                    }
                }
                return hasher
            }
            last = next
            queued.append(next)
            if queued.count > backlog { _ = await queued.removeFirst().value }
        }

        func digest() async -> String {
            let hasher = await last?.value ?? SHA256()
            return hasher.finalize().map { String(format: "%02x", $0) }.joined()
        }
    }

    public func write(_ disk: DiskImageManifest, progress: @Sendable (Double, Stats) async -> Void = { _, _ in })
        async throws -> Stats
    {
        try Self.checkCovers(disk)
        var stats = Stats()
        let zero = [UInt8](repeating: 0, count: disk.chunkSize)
        var image = verification == .image ? ImageHash(chunkSize: disk.chunkSize, backlog: window) : nil
        var lastReported = -1.0
        let count = disk.chunks.count
        var pending: [Task<Planned, any Error>?] = Array(repeating: nil, count: count)
        var started = 0
        defer { for task in pending { task?.cancel() } }
        for index in 0..<count {
            while started < count, started <= index + window {
                let next = started
                // A window of plans ahead, awaited in order; the defer above cancels what is left on an error.
                pending[next] = Task { try await plan(disk, chunk: next) }
                started += 1
            }
            let planned = try await pending[index]!.value
            pending[index] = nil
            let offset = UInt64(index) * UInt64(disk.chunkSize)
            let length = disk.length(ofChunk: index)
            stats.chunks += 1
            stats.fetched += planned.stats.fetched
            stats.refetched += planned.stats.refetched
            stats.refetchedChunks += planned.stats.refetchedChunks
            stats.bytesFetched += planned.stats.bytesFetched
            // Every write covers exactly this chunk's range: no later write can touch a chunk checked here. What the
            // image hash gets is what the disk holds there from now on: the bytes read when the chunk was compared,
            // or the bytes read back after the write.
            let held: ImageHash.Piece
            switch planned.action {
            case .unchanged(let bytes):
                stats.unchanged += 1
                held = bytes.map { .bytes($0) } ?? .zeros(length)
            case .write(let bytes):
                try target.write(offset: offset, bytes: bytes)
                target.startWriteback(offset: offset, count: length)
                held = .bytes(try checkReadBack(disk, chunk: index, equals: bytes))
                stats.bytesWritten += UInt64(length)
            case .zero:
                // A zero range of the image: nothing to fetch, but the disk must hold zeros there.
                try target.write(offset: offset, bytes: Array(zero[0..<length]))
                target.startWriteback(offset: offset, count: length)
                held = .bytes(try checkReadBack(disk, chunk: index, equals: nil))
                stats.zeroed += 1
                stats.bytesWritten += UInt64(length)
            }
            await image?.add(held)
            let fraction = Double(index + 1) / Double(max(count, 1)) * 0.9
            if fraction - lastReported >= 0.05 {
                lastReported = fraction
                await progress(fraction, stats)
            }
        }
        // The writes were started towards the medium as they were made; fsync waits for the rest while the image hash
        // catches up. The write succeeds only when both do.
        // Awaited on every path below.
        let flushing = Task { [target] in try await Blocking.run { try target.flush() } }
        if let image {
            let digest = await image.digest()
            guard digest == disk.sha256 else {
                _ = try? await flushing.value
                throw AgentError(
                    "disk \(disk.index) does not verify after writing: sha256 \(digest), the image is \(disk.sha256)")
            }
        }
        try await flushing.value
        await progress(1, stats)
        return stats
    }

    /// Reads back chunk `index` right after its write and compares it byte for byte with what was written (bytes
    /// whose SHA-256 was verified against the manifest before the write), or with zeros; returns what it read.
    func checkReadBack(_ disk: DiskImageManifest, chunk index: Int, equals written: [UInt8]?) throws -> [UInt8] {
        let offset = UInt64(index) * UInt64(disk.chunkSize)
        let length = disk.length(ofChunk: index)
        let got = try target.read(offset: offset, count: length)
        guard got.count == length else {
            throw AgentError("disk \(disk.index): reading back chunk \(index) gave \(got.count) bytes, not \(length)")
        }
        let wrong: Int? = got.withUnsafeBytes { got in
            if let written {
                return written.withUnsafeBytes { expected in
                    memcmp(got.baseAddress!, expected.baseAddress!, length) == 0
                        ? nil : (0..<length).first { got[$0] != expected[$0] }
                }
            }
            return Self.firstNonZero(got)
        }
        guard let wrong else { return got }
        let should = written.map { $0[wrong] } ?? 0
        throw AgentError(
            "disk \(disk.index) does not verify after writing: chunk \(index) (bytes \(offset)..<\(offset + UInt64(length))) "
                + "reads back with byte \(offset + UInt64(wrong)) = \(got[wrong]), written as \(should)")
    }

    /// The chunk list must cover the disk exactly: the writer and the check after it go chunk by chunk, so a range
    /// no chunk names would be neither written nor verified.
    static func checkCovers(_ disk: DiskImageManifest) throws {
        // A chunk is read into memory whole: at most 64 MiB (the store's are 1 MiB).
        guard disk.chunkSize > 0, disk.chunkSize <= 64 << 20 else {
            throw AgentError(
                "disk \(disk.index) of the manifest has chunkSize \(disk.chunkSize); 1 byte to 64 MiB is accepted")
        }
        guard let needed = Arithmetic.ceilDivide(disk.size, UInt64(disk.chunkSize)) else {
            throw AgentError("chunkSize 0")
        }
        guard UInt64(disk.chunks.count) == needed else {
            throw AgentError(
                "disk \(disk.index) of the manifest is inconsistent: \(disk.size) bytes in chunks of \(disk.chunkSize) "
                    + "need \(needed) chunks; it lists \(disk.chunks.count)")
        }
    }

    /// Compares chunk `index` with the disk and, when they differ, fetches and verifies the image's chunk. Reads the
    /// disk only at this chunk's range, which no write before this chunk's own touches.
    func plan(_ disk: DiskImageManifest, chunk index: Int) async throws -> Planned {
        let offset = UInt64(index) * UInt64(disk.chunkSize)
        let length = disk.length(ofChunk: index)
        // A hole or all zeros: never an image chunk's bytes (those are stored only when not all zero), so no hash.
        let current: [UInt8]?
        if target.isHole(offset: offset, count: length) {
            current = nil
        } else {
            current = try await Blocking.run { [target] in try target.read(offset: offset, count: length) }
        }
        let isZero = current.map { bytes in bytes.withUnsafeBytes(Self.isZero) } ?? true
        guard let expected = disk.chunks[index] else { return Planned(action: isZero ? .unchanged(held: nil) : .zero) }
        if let current, !isZero, ChunkHash(of: current) == expected {
            return Planned(action: .unchanged(held: current))
        }
        var planned = Planned(action: .zero)
        let bytes = try await fetchVerified(disk, chunk: index, &planned.stats)
        guard bytes.count == length else {
            throw AgentError(
                "chunk \(index) of disk \(disk.index) (\(expected)) is \(bytes.count) bytes; the manifest says \(length)"
            )
        }
        planned.action = .write(bytes)
        return planned
    }

    /// Whether every byte is zero: memcmp against a zero page, not a byte loop (the agent may be a debug build
    /// running under emulation).
    static func isZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        firstNonZero(bytes) == nil
    }

    /// The offset of the first byte that is not zero, found a page at a time with memcmp.
    static func firstNonZero(_ bytes: UnsafeRawBufferPointer) -> Int? {
        zeroPage.withUnsafeBytes { zero in
            var offset = 0
            while offset < bytes.count {
                let n = min(zero.count, bytes.count - offset)
                if memcmp(bytes.baseAddress! + offset, zero.baseAddress!, n) != 0 {
                    return (offset..<offset + n).first { bytes[$0] != 0 }
                }
                offset += n
            }
            return nil
        }
    }

    private static let zeroPage = [UInt8](repeating: 0, count: 4096)

    /// Chunk `index` from the source, hashed before it is used; a corrupt or failed fetch is tried again, up to
    /// `maxFetches` in all, and the error names the chunk.
    func fetchVerified(_ disk: DiskImageManifest, chunk index: Int, _ stats: inout Stats) async throws -> [UInt8] {
        guard let hash = disk.chunks[index] else {
            throw AgentError("chunk \(index) of disk \(disk.index) is a zero range: nothing to fetch")
        }
        var lastError = ""
        for attempt in 1...maxFetches {
            do {
                let bytes = try await source.chunk(hash)
                stats.bytesFetched += UInt64(bytes.count)
                let got = ChunkHash(of: bytes)
                if got == hash {
                    stats.fetched += 1
                    return bytes
                }
                lastError = "it arrived corrupt (\(bytes.count) bytes with sha256 \(got))"
            } catch {
                lastError = "\(error)"
            }
            if attempt < maxFetches {
                stats.refetched += 1
                if stats.refetchedChunks.last != index { stats.refetchedChunks.append(index) }
            }
        }
        throw AgentError(
            "chunk \(index) of disk \(disk.index) (sha256 \(hash)) could not be fetched intact in \(maxFetches) tries; "
                + "the last time \(lastError)")
    }
}
