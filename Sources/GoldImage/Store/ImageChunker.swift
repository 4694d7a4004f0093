import Crypto
import Dispatch
import Foundation
import GoldCore

#if canImport(Glibc)
    import Glibc
#endif

/// Cuts an image file into chunks for the store: each non-zero chunk hashed and put, the whole image's SHA-256
/// beside it.
///
/// The whole-image hash covers every byte, zeros included, and is serial: it runs on its own thread, fed the
/// chunks in order, while this thread tests, hashes and stores them (one read of each chunk serves both). Chunks
/// that lie entirely in a hole of the sparse file (``DataExtents``) are known zeros and never read.
struct ImageChunker {
    let chunks: ChunkStore
    /// Chunks read ahead of the whole-image hash at most.
    var buffers = 4

    struct Result {
        var size: UInt64
        var sha256: String
        var hashes: [ChunkHash?]
    }

    /// A chunk buffer handed to the hashing thread and back (only one side touches it at a time).
    private struct Buffer: @unchecked Sendable {
        let bytes: UnsafeMutableRawBufferPointer
    }

    /// Buffers free for the next read; `take` waits for one.
    private final class Pool: @unchecked Sendable {
        private let lock = NSLock()
        private let available: DispatchSemaphore
        private var free: [Buffer]
        let all: [Buffer]

        init(count: Int, size: Int) {
            all = (0..<count).map { _ in
                Buffer(bytes: UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4096))
            }
            free = all
            available = DispatchSemaphore(value: count)
        }

        func take() -> Buffer {
            available.wait()
            return lock.withLock { free.removeLast() }
        }

        func give(_ buffer: Buffer) {
            lock.withLock { free.append(buffer) }
            available.signal()
        }

        deinit { for buffer in all { buffer.bytes.deallocate() } }
    }

    /// The serial whole-image hasher, touched only on its queue.
    private final class WholeHash: @unchecked Sendable {
        var hasher = SHA256()
    }

    /// 1 MiB of zeros, allocated once and never written.
    private static let zeros: Buffer = {
        let zeros = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        zeros.initializeMemory(as: UInt8.self, repeating: 0)
        return Buffer(bytes: zeros)
    }()

    func chunk(_ file: URL, stats: inout ImportStats) throws -> Result {
        let fd = open(file.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw GoldError(.notFound, "cannot open image \(file.path)", at: file.path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw AtomicFile.ioError("cannot stat", file) }
        let size = UInt64(st.st_size)
        let chunkSize = chunks.chunkSize
        let extents = DataExtents.scan(fd, size: size)

        let pool = Pool(count: buffers, size: chunkSize)
        let queue = DispatchQueue(label: "gold.image.whole-hash")
        let whole = WholeHash()
        defer { queue.sync {} }  // on a throw too: the hashing thread lets go of the buffers first

        var hashes: [ChunkHash?] = []
        var extent = 0
        var offset: UInt64 = 0
        while offset < size {
            let count = Int(min(UInt64(chunkSize), size - offset))
            let end = offset + UInt64(count)
            while extent < extents.count, extents[extent].upperBound <= offset { extent += 1 }
            let hasData = extent < extents.count && extents[extent].lowerBound < end
            stats.totalChunks += 1
            stats.totalBytes += UInt64(count)
            guard hasData else {
                // A hole: zeros, not read (the zero buffer is never written, so it is shared safely).
                let zeros = Self.zeros
                queue.async {
                    var left = count
                    while left > 0 {
                        let n = min(left, zeros.bytes.count)
                        whole.hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: zeros.bytes[0..<n]))
                        left -= n
                    }
                }
                stats.zeroChunks += 1
                hashes.append(nil)
                offset = end
                continue
            }
            let buffer = pool.take()
            let bytes = UnsafeRawBufferPointer(rebasing: buffer.bytes[0..<count])
            var done = 0
            while done < count {
                let n = pread(fd, buffer.bytes.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                if n < 0, errno == EINTR { continue }
                guard n > 0 else {
                    pool.give(buffer)
                    throw AtomicFile.ioError(n == 0 ? "image shrank while reading" : "cannot read", file)
                }
                done += n
            }
            queue.async {
                whole.hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer.bytes[0..<count]))
                pool.give(buffer)
            }
            if ChunkStore.isZero(bytes) {
                stats.zeroChunks += 1
                hashes.append(nil)
            } else {
                let hash = ChunkHash(of: bytes)
                if !chunks.contains(hash) {
                    let (_, isNew) = try chunks.put(Data(bytes), hash: hash)
                    if isNew {
                        stats.newChunks += 1
                        stats.newBytes += UInt64(count)
                    }
                }
                hashes.append(hash)
            }
            offset = end
        }
        let digest = queue.sync { whole.hasher.finalize().hexString }
        return Result(size: size, sha256: digest, hashes: hashes)
    }
}
