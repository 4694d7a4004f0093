import Crypto
import Foundation
import GoldImage

/// Where the writer reads and writes: a block device in the netboot environment, a file in tests.
public protocol BlockTarget: Sendable {
    func read(offset: UInt64, count: Int) throws -> [UInt8]
    func write(offset: UInt64, bytes: [UInt8]) throws
    func flush() throws
}

/// Where chunks come from: the deploy server's `/chunks/<sha256>`.
public protocol ChunkSource: Sendable {
    func chunk(_ hash: ChunkHash) async throws -> [UInt8]
}

/// Writes one disk of an image version: only the chunks that differ from what the disk holds are fetched (delta
/// re-image), every fetched chunk is verified before it is written (and fetched again when corrupt), and the whole
/// range is verified against the image's SHA-256 at the end. A mismatch fails the write: it is never booted.
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

    public init(target: any BlockTarget, source: any ChunkSource, maxFetches: Int = 4) {
        self.target = target
        self.source = source
        self.maxFetches = maxFetches
    }

    public func write(_ disk: DiskImageManifest, progress: @Sendable (Double, Stats) async -> Void = { _, _ in }) async throws -> Stats {
        var stats = Stats()
        let zero = [UInt8](repeating: 0, count: disk.chunkSize)
        var lastReported = -1.0
        for (index, expected) in disk.chunks.enumerated() {
            let offset = UInt64(index) * UInt64(disk.chunkSize)
            let length = disk.length(ofChunk: index)
            stats.chunks += 1
            let current = try target.read(offset: offset, count: length)
            if let expected {
                if ChunkHash(of: current) == expected {
                    stats.unchanged += 1
                } else {
                    let bytes = try await fetchVerified(expected, &stats)
                    guard bytes.count == length else {
                        throw AgentError("chunk \(index) (\(expected)) is \(bytes.count) bytes; the manifest says \(length)")
                    }
                    try target.write(offset: offset, bytes: bytes)
                    stats.bytesWritten += UInt64(length)
                }
            } else if !Self.isZero(current) {
                // A zero range of the image: nothing to fetch, but the disk must hold zeros there.
                try target.write(offset: offset, bytes: Array(zero[0..<length]))
                stats.zeroed += 1
                stats.bytesWritten += UInt64(length)
            } else {
                stats.unchanged += 1
            }
            let fraction = Double(index + 1) / Double(max(disk.chunks.count, 1)) * 0.9
            if fraction - lastReported >= 0.05 {
                lastReported = fraction
                await progress(fraction, stats)
            }
        }
        try target.flush()
        // Read the whole range back: the disk must hold exactly the image.
        var hasher = SHA256()
        var offset: UInt64 = 0
        while offset < disk.size {
            let count = Int(min(UInt64(disk.chunkSize), disk.size - offset))
            hasher.update(data: try target.read(offset: offset, count: count))
            offset += UInt64(count)
        }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        guard digest == disk.sha256 else {
            throw AgentError("disk \(disk.index) does not verify after writing: sha256 \(digest), the image is \(disk.sha256)")
        }
        await progress(1, stats)
        return stats
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

    public init(path: String) throws {
        fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw AgentError("cannot open \(path) for writing: \(String(cString: strerror(errno)))") }
        self.path = path
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

    public func flush() throws {
        guard fsync(fd) == 0 else { throw AgentError("fsync \(path): \(String(cString: strerror(errno)))") }
    }
}
