import Crypto
import Foundation
import GoldImage

/// Where the writer reads and writes: a block device in the netboot environment, a file in tests.
public protocol BlockTarget: Sendable {
    func read(offset: UInt64, count: Int) throws -> [UInt8]
    func write(offset: UInt64, bytes: [UInt8]) throws
    func flush() throws
    /// True only when the range is known to read as zeros without reading it (a hole in a sparse file).
    func isHole(offset: UInt64, count: Int) -> Bool
}

extension BlockTarget {
    public func isHole(offset: UInt64, count: Int) -> Bool { false }
}

/// Where chunks come from: the deploy server's `/chunks/<sha256>`.
public protocol ChunkSource: Sendable {
    func chunk(_ hash: ChunkHash) async throws -> [UInt8]
}

/// Writes one disk of an image version: only the chunks that differ from what the disk holds are fetched (delta
/// re-image), every fetched chunk is verified before it is written (and fetched again when corrupt), and the whole
/// range is verified against the image's SHA-256 at the end. A mismatch fails the write: it is never booted.
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
        public var bytesFetched: UInt64 = 0
        public var bytesWritten: UInt64 = 0
    }

    public let target: any BlockTarget
    public let source: any ChunkSource
    public let maxFetches: Int
    public let window: Int

    public init(target: any BlockTarget, source: any ChunkSource, maxFetches: Int = 4, window: Int = 4) {
        self.target = target
        self.source = source
        self.maxFetches = maxFetches
        self.window = max(1, window)
    }

    /// What one chunk needs, decided before it is written.
    struct Planned: Sendable {
        enum Action: Sendable {
            case unchanged
            case write([UInt8])
            case zero
        }
        var action: Action
        /// What fetching it took (fetched, refetched, bytesFetched).
        var stats = Stats()
    }

    public func write(_ disk: DiskImageManifest, progress: @Sendable (Double, Stats) async -> Void = { _, _ in }) async throws -> Stats {
        var stats = Stats()
        let zero = [UInt8](repeating: 0, count: disk.chunkSize)
        var lastReported = -1.0
        let count = disk.chunks.count
        var pending: [Task<Planned, any Error>?] = Array(repeating: nil, count: count)
        var started = 0
        defer { for task in pending { task?.cancel() } }
        for index in 0..<count {
            while started < count, started <= index + window {
                let next = started
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
            stats.bytesFetched += planned.stats.bytesFetched
            switch planned.action {
            case .unchanged:
                stats.unchanged += 1
            case .write(let bytes):
                try target.write(offset: offset, bytes: bytes)
                stats.bytesWritten += UInt64(length)
            case .zero:
                // A zero range of the image: nothing to fetch, but the disk must hold zeros there.
                try target.write(offset: offset, bytes: Array(zero[0..<length]))
                stats.zeroed += 1
                stats.bytesWritten += UInt64(length)
            }
            let fraction = Double(index + 1) / Double(max(count, 1)) * 0.9
            if fraction - lastReported >= 0.05 {
                lastReported = fraction
                await progress(fraction, stats)
            }
        }
        // Read the whole range back: the disk must hold exactly the image. The reads see what was written whether or
        // not it has reached the medium yet, so the fsync runs meanwhile; the write succeeds only when both do.
        let flushing = Task.detached { [target] in try target.flush() }
        var hasher = SHA256()
        var offset: UInt64 = 0
        do {
            while offset < disk.size {
                let count = Int(min(UInt64(disk.chunkSize), disk.size - offset))
                if target.isHole(offset: offset, count: count) {
                    zero.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                } else {
                    hasher.update(data: try target.read(offset: offset, count: count))
                }
                offset += UInt64(count)
            }
        } catch {
            _ = try? await flushing.value
            throw error
        }
        try await flushing.value
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        guard digest == disk.sha256 else {
            throw AgentError("disk \(disk.index) does not verify after writing: sha256 \(digest), the image is \(disk.sha256)")
        }
        await progress(1, stats)
        return stats
    }

    /// Compares chunk `index` with the disk and, when they differ, fetches and verifies the image's chunk. Reads the
    /// disk only at this chunk's range, which no write before this chunk's own touches.
    func plan(_ disk: DiskImageManifest, chunk index: Int) async throws -> Planned {
        let offset = UInt64(index) * UInt64(disk.chunkSize)
        let length = disk.length(ofChunk: index)
        // A hole or all zeros: never an image chunk's bytes (those are stored only when not all zero), so no hash.
        let current = target.isHole(offset: offset, count: length) ? nil : try target.read(offset: offset, count: length)
        let isZero = current.map(Self.isZero) ?? true
        guard let expected = disk.chunks[index] else { return Planned(action: isZero ? .unchanged : .zero) }
        if let current, !isZero, ChunkHash(of: current) == expected { return Planned(action: .unchanged) }
        var planned = Planned(action: .unchanged)
        let bytes = try await fetchVerified(expected, &planned.stats)
        guard bytes.count == length else {
            throw AgentError("chunk \(index) (\(expected)) is \(bytes.count) bytes; the manifest says \(length)")
        }
        planned.action = .write(bytes)
        return planned
    }

    /// Whether every byte is zero: memcmp against a zero page, not a byte loop (the agent may be a debug build
    /// running under emulation).
    static func isZero(_ bytes: [UInt8]) -> Bool {
        let page = [UInt8](repeating: 0, count: 4096)
        return bytes.withUnsafeBytes { raw in
            page.withUnsafeBytes { zero in
                var offset = 0
                while offset < raw.count {
                    let n = min(4096, raw.count - offset)
                    if memcmp(raw.baseAddress! + offset, zero.baseAddress!, n) != 0 { return false }
                    offset += n
                }
                return true
            }
        }
    }

    func fetchVerified(_ hash: ChunkHash, _ stats: inout Stats) async throws -> [UInt8] {
        var lastError = ""
        for attempt in 1...maxFetches {
            do {
                let bytes = try await source.chunk(hash)
                stats.bytesFetched += UInt64(bytes.count)
                if ChunkHash(of: bytes) == hash {
                    stats.fetched += 1
                    return bytes
                }
                lastError = "chunk \(hash) arrived corrupt (sha256 \(ChunkHash(of: bytes)))"
            } catch {
                lastError = "\(error)"
            }
            if attempt < maxFetches { stats.refetched += 1 }
        }
        throw AgentError("chunk \(hash) could not be fetched intact after \(maxFetches) tries: \(lastError)")
    }
}

/// A block device or a file, read and written with pread/pwrite.
public final class FileBlockTarget: BlockTarget, @unchecked Sendable {
    let fd: Int32
    public let path: String

    let isRegularFile: Bool

    public init(path: String) throws {
        fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw AgentError("cannot open \(path) for writing: \(String(cString: strerror(errno)))") }
        self.path = path
        var info = stat()
        isRegularFile = fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    deinit { close(fd) }

    public func read(offset: UInt64, count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if n < 0 { throw AgentError("reading \(path) at \(offset): \(String(cString: strerror(errno)))") }
            if n == 0 { break }  // past the end: the rest reads as zeros
            done += n
        }
        return buffer
    }

    public func write(offset: UInt64, bytes: [UInt8]) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done)) }
            if n < 0 { throw AgentError("writing \(path) at \(offset): \(String(cString: strerror(errno)))") }
            done += n
        }
    }

    /// A regular file's holes, from `lseek(SEEK_DATA)` (a file system may report a hole as data, never data as a
    /// hole); a block device has none.
    public func isHole(offset: UInt64, count: Int) -> Bool {
        guard isRegularFile else { return false }
        let seekData: Int32 = 3  // SEEK_DATA (Linux)
        let data = lseek(fd, off_t(offset), seekData)
        if data < 0 { return errno == ENXIO }  // no data at or after offset
        return UInt64(data) >= offset + UInt64(count)
    }

    public func flush() throws {
        guard fsync(fd) == 0 else { throw AgentError("fsync \(path): \(String(cString: strerror(errno)))") }
    }
}
