import Crypto
import Foundation
import GoldCore
import GoldImage
import GoldSpawn

/// Where a capture reads: a block device or a file, never written.
public protocol DiskSource: Sendable {
    var path: String { get }
    var size: UInt64 { get }
    /// Fills `buffer` from `offset` (zeros past the end).
    func read(offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws
}

/// The store's side of a capture: the director over HTTP on a machine, anything in tests.
public protocol CaptureSink: Sendable {
    /// The given hashes the store lacks.
    func missing(_ hashes: [ChunkHash]) async throws -> [ChunkHash]
    /// Sends one chunk; throws when it is refused (its bytes arrived damaged) or cannot be sent.
    func upload(_ hash: ChunkHash, _ bytes: [UInt8]) async throws
    /// Records the version; throws ``MissingChunksError`` when the store lacks chunks the disks name.
    func commit(_ disks: [DiskImageManifest], description: String) async throws -> ImageCapture.Result
}

/// Captures disks as a new image version: reads each disk once in the store's chunk size (each chunk hashed, all-zero
/// chunks recorded as zero, the whole disk hashed alongside), asks the store once which chunks it lacks, reads those
/// again and uploads them (each retried when refused), then commits the manifests; chunks the commit finds missing
/// (garbage collected meanwhile) are uploaded again and the commit repeated.
public struct DiskCapture: Sendable {
    public struct Stats: Sendable, Hashable, Codable {
        /// Chunk positions over all disks.
        public var chunks = 0
        public var zero = 0
        /// Distinct non-zero chunks uploaded, and their bytes.
        public var uploaded = 0
        public var uploadedBytes: UInt64 = 0
        /// Distinct non-zero chunks the store already held.
        public var alreadyStored = 0
        /// Uploads sent again after a refusal or a failed send.
        public var resent = 0
        public var bytesRead: UInt64 = 0

        /// Non-zero positions whose chunk appears earlier on a disk too.
        public var repeats: Int { chunks - zero - uploaded - alreadyStored }

        /// "N chunks, M uploaded (X MiB), K already stored, Z zero".
        public var summary: String {
            let mib = String(format: "%.1f", Double(uploadedBytes) / Double(1 << 20))
            return "\(chunks) chunks, \(uploaded) uploaded (\(mib) MiB), \(alreadyStored) already stored, \(zero) zero"
                + (repeats > 0 ? ", \(repeats) repeated" : "") + (resent > 0 ? ", \(resent) sent again" : "")
        }
    }

    /// One disk to read, and what the manifest records about it.
    public struct Input: Sendable {
        public var index: Int
        public var device: String?
        public var source: any DiskSource
        public init(index: Int, device: String?, source: any DiskSource) {
            self.index = index
            self.device = device
            self.source = source
        }
    }

    /// Progress: the phase's text and the fraction of the whole capture done.
    public typealias Progress = @Sendable (Double, String) async -> Void

    public let chunkSize: Int
    /// Chunks read and hashed at once (on two threads: the chunks' hashes and the whole disk's).
    public let batch: Int
    public let maxSends: Int
    public let maxCommits: Int

    public init(chunkSize: Int, batch: Int = 16, maxSends: Int = 3, maxCommits: Int = 3) {
        self.chunkSize = chunkSize
        self.batch = max(1, batch)
        self.maxSends = max(1, maxSends)
        self.maxCommits = max(1, maxCommits)
    }

    /// Reads, uploads what is missing and commits; returns what the store recorded and what moved.
    public func run(
        _ inputs: [Input], into sink: any CaptureSink, description: String, progress: Progress = { _, _ in }
    )
        async throws -> (result: ImageCapture.Result, manifests: [DiskImageManifest], stats: Stats)
    {
        var stats = Stats()
        let total = max(1, inputs.reduce(UInt64(0)) { $0 + $1.source.size })
        var manifests: [DiskImageManifest] = []
        for input in inputs {
            let done = stats.bytesRead
            let manifest = try await scan(input) { read in
                await progress(
                    0.8 * Double(done + read) / Double(total),
                    "\(input.source.path): \(read >> 20) of \(input.source.size >> 20) MiB read and hashed")
            }
            stats.bytesRead += manifest.size
            stats.chunks += manifest.chunks.count
            stats.zero += manifest.chunks.filter { $0 == nil }.count
            manifests.append(manifest)
        }
        let distinct = ImageCapture.distinctChunks(manifests)
        let missing = try await sink.missing(distinct)
        let known = Set(distinct)
        if let stranger = missing.first(where: { !known.contains($0) }) {
            throw AgentError("the director asked for chunk \(stranger.hex), which no disk of this capture holds")
        }
        stats.alreadyStored = distinct.count - Set(missing).count
        let places = Self.places(manifests)
        try await upload(missing, places: places, inputs: inputs, sink: sink, stats: &stats) { sent, bytes in
            await progress(
                0.8 + 0.2 * Double(sent) / Double(max(1, missing.count)),
                "uploaded \(sent) of \(missing.count) chunks (\(bytes >> 20) MiB)")
        }
        for attempt in 1...maxCommits {
            do {
                let result = try await sink.commit(manifests, description: description)
                await progress(1, stats.summary)
                return (result, manifests, stats)
            } catch let error as MissingChunksError where attempt < maxCommits {
                // Garbage collection removed chunks no version named yet: they move again.
                guard error.missing.allSatisfy({ places[$0] != nil }) else { throw error }
                let already = Set(missing)
                stats.alreadyStored -= error.missing.filter { !already.contains($0) }.count
                try await upload(
                    error.missing, places: places, inputs: inputs, sink: sink, stats: &stats, sentBefore: already
                ) { _, _ in }
            }
        }
        throw AgentError("the commit did not succeed after \(maxCommits) attempts")
    }

    /// Where each chunk first appears: (input position, chunk index).
    static func places(_ manifests: [DiskImageManifest]) -> [ChunkHash: (Int, Int)] {
        var places: [ChunkHash: (Int, Int)] = [:]
        for (d, manifest) in manifests.enumerated() {
            for (i, hash) in manifest.chunks.enumerated() {
                if let hash, places[hash] == nil { places[hash] = (d, i) }
            }
        }
        return places
    }

    /// One pass over a disk: every chunk's hash (nil when all zero) and the whole disk's SHA-256.
    func scan(_ input: Input, progress: (UInt64) async -> Void) async throws -> DiskImageManifest {
        let size = input.source.size
        guard size > 0 else { throw AgentError("\(input.source.path) is empty: nothing to capture") }
        // The chunk size is the director's answer: checked before it divides or sizes a buffer.
        guard chunkSize > 0, chunkSize <= 64 << 20, let chunks = Arithmetic.ceilDivide(size, UInt64(chunkSize)),
            let count = Int(exactly: chunks)
        else { throw AgentError("the director's chunk size \(chunkSize) is not 1 byte to 64 MiB") }
        var whole = SHA256()
        var hashes: [ChunkHash?] = []
        hashes.reserveCapacity(count)
        var first = 0
        while first < count {
            let n = min(batch, count - first)
            let offset = UInt64(first) * UInt64(chunkSize)
            let length = Int(min(UInt64(n * chunkSize), size - offset))
            let source = input.source
            let bytes = try await Blocking.run { try Self.read(source, offset: offset, count: length) }
            let chunkSize = self.chunkSize
            async let chunkHashes = Blocking.run { Self.hashChunks(bytes, chunkSize: chunkSize) }
            let hasher = whole
            async let wholeAfter = Blocking.run {
                var h = hasher
                h.update(data: bytes)
                return h
            }
            hashes += await chunkHashes
            whole = await wholeAfter
            first += n
            await progress(offset + UInt64(length))
        }
        return DiskImageManifest(
            index: input.index, device: input.device, size: size, sha256: Self.hex(whole.finalize()),
            chunkSize: chunkSize,
            chunks: hashes)
    }

    func upload(
        _ hashes: [ChunkHash], places: [ChunkHash: (Int, Int)], inputs: [Input], sink: any CaptureSink,
        stats: inout Stats,
        sentBefore: Set<ChunkHash> = [], progress: (Int, UInt64) async -> Void
    ) async throws {
        var sentBytes: UInt64 = 0
        for (n, hash) in hashes.enumerated() {
            guard let place = places[hash] else {
                throw AgentError("chunk \(hash.hex) is on none of the captured disks")
            }
            let (d, i) = place
            let source = inputs[d].source
            let offset = UInt64(i) * UInt64(chunkSize)
            let length = Int(min(UInt64(chunkSize), source.size - offset))
            let bytes = try await Blocking.run { try Self.read(source, offset: offset, count: length) }
            // The disk is not mounted in the netboot environment: the same place must give the same bytes.
            guard ChunkHash(of: bytes) == hash else {
                throw AgentError(
                    "\(source.path) changed while it was captured: chunk \(i) no longer hashes to \(hash.hex)")
            }
            var attempt = 1
            while true {
                do {
                    try await sink.upload(hash, bytes)
                    break
                } catch  where attempt < maxSends {
                    attempt += 1
                    stats.resent += 1
                } catch {
                    throw AgentError(
                        "chunk \(i) of \(source.path) (sha256 \(hash.hex)) was not accepted after \(attempt) sends: \(error)"
                    )
                }
            }
            if sentBefore.contains(hash) {
                stats.resent += 1
            } else {
                stats.uploaded += 1
                stats.uploadedBytes += UInt64(length)
            }
            sentBytes += UInt64(length)
            await progress(n + 1, sentBytes)
        }
    }

    static func read(_ source: any DiskSource, offset: UInt64, count: Int) throws -> [UInt8] {
        var failure: (any Error)?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do { try source.read(offset: offset, into: UnsafeMutableRawBufferPointer(buffer)) } catch {
                failure = error
            }
            initialized = count
        }
        if let failure { throw failure }
        return bytes
    }

    static func hashChunks(_ bytes: [UInt8], chunkSize: Int) -> [ChunkHash?] {
        stride(from: 0, to: bytes.count, by: chunkSize).map { start in
            let piece = bytes[start..<min(bytes.count, start + chunkSize)]
            return isZero(piece) ? nil : ChunkHash(of: piece)
        }
    }

    static func isZero(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.withUnsafeBytes { raw in
            var i = 0
            let words = raw.count / 8
            while i < words {
                if raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self) != 0 { return false }
                i += 1
            }
            for j in (words * 8)..<raw.count where raw[j] != 0 { return false }
            return true
        }
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}

/// A block device or a file opened read-only.
public final class FileDiskSource: DiskSource, @unchecked Sendable {
    let fd: Int32
    public let path: String
    public let size: UInt64

    public init(path: String) throws {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AgentError("cannot open \(path) for reading: \(String(cString: strerror(errno)))") }
        self.path = path
        let end = lseek(fd, 0, SEEK_END)
        guard end >= 0 else {
            close(fd)
            throw AgentError("cannot find the size of \(path): \(String(cString: strerror(errno)))")
        }
        size = UInt64(end)
    }

    deinit { close(fd) }

    public func read(offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        try preadFully(fd, path: path, offset: offset, into: buffer)
    }
}
