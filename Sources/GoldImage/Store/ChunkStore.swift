import Crypto
import Foundation
import GoldCore

/// Content-addressed storage of fixed-size image chunks, shared by every machine and version.
///
/// A chunk lives at `chunks/ab/abcdef…` (its SHA-256), is written once (temporary file, fsync, rename) and is
/// verified on every read: a chunk whose bytes no longer hash to its name is an error naming it, never data.
/// All-zero chunks are never stored; manifests record them as `nil`.
public struct ChunkStore: Sendable {
    /// 1 MiB: partitions are 1 MiB aligned, so a partition's chunks are identical wherever its bytes are
    /// identical; a 2 GiB disk is 2048 chunks (a ~140 KB manifest, one file per MiB in the store) while a
    /// one-file change in ext4 dirties only a handful of them (data blocks, one inode-table block, bitmaps).
    public static let defaultChunkSize = 1 << 20

    public let root: URL
    public let chunkSize: Int

    public init(root: URL, chunkSize: Int = ChunkStore.defaultChunkSize) {
        self.root = root
        self.chunkSize = chunkSize
    }

    var chunksDirectory: URL { root.appendingPathComponent("chunks") }
    var temporaryDirectory: URL { root.appendingPathComponent("tmp") }

    /// Where the chunk named `hash` lives.
    public func url(for hash: ChunkHash) -> URL {
        chunksDirectory.appendingPathComponent(String(hash.hex.prefix(2))).appendingPathComponent(hash.hex)
    }

    public func contains(_ hash: ChunkHash) -> Bool {
        FileManager.default.fileExists(atPath: url(for: hash).path)
    }

    /// Stores `bytes` unless a chunk with the same hash exists; returns the hash and whether it was new.
    @discardableResult
    public func put(_ bytes: Data, hash known: ChunkHash? = nil) throws -> (hash: ChunkHash, isNew: Bool) {
        let hash = known ?? ChunkHash(of: bytes)
        let target = url(for: hash)
        if FileManager.default.fileExists(atPath: target.path) { return (hash, false) }
        try AtomicFile.write(bytes, to: target, temporaryDirectory: temporaryDirectory)
        return (hash, true)
    }

    /// The chunk's bytes, verified against its name.
    public func get(_ hash: ChunkHash) throws -> Data {
        let target = url(for: hash)
        guard let data = FileManager.default.contents(atPath: target.path) else {
            throw GoldError(.notFound, "chunk \(hash.hex) is missing from the chunk store", at: target.path)
        }
        guard ChunkHash(of: data) == hash else {
            throw GoldError(
                .io,
                "chunk \(hash.hex) is corrupt: its bytes hash to \(ChunkHash(of: data).hex); restore it or re-import the image",
                at: target.path)
        }
        return data
    }

    /// Every stored chunk with its size in bytes.
    public func all() throws -> [(hash: ChunkHash, bytes: UInt64)] {
        let fm = FileManager.default
        guard fm.fileExists(atPath: chunksDirectory.path) else { return [] }
        var out: [(ChunkHash, UInt64)] = []
        for prefix in try fm.contentsOfDirectory(atPath: chunksDirectory.path) {
            let dir = chunksDirectory.appendingPathComponent(prefix)
            for name in try fm.contentsOfDirectory(atPath: dir.path) {
                guard let hash = ChunkHash(name) else { continue }
                let size =
                    (try? fm.attributesOfItem(atPath: dir.appendingPathComponent(name).path)[.size] as? NSNumber)?
                    .uint64Value ?? 0
                out.append((hash, size))
            }
        }
        return out
    }

    /// Removes a chunk; returns the bytes freed.
    public func remove(_ hash: ChunkHash) throws -> UInt64 {
        let target = url(for: hash)
        let size =
            (try? FileManager.default.attributesOfItem(atPath: target.path)[.size] as? NSNumber)?.uint64Value ?? 0
        try FileManager.default.removeItem(at: target)
        return size
    }

    /// Removes temporary files a crash left behind (they were never visible as chunks).
    public func removeLeftovers() {
        try? FileManager.default.removeItem(at: temporaryDirectory)
    }

    private static let zeros = [UInt8](repeating: 0, count: 1 << 20)

    /// True when every byte is zero.
    static func isZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = min(zeros.count, bytes.count - offset)
            let same = zeros.withUnsafeBytes { memcmp($0.baseAddress!, bytes.baseAddress! + offset, n) == 0 }
            if !same { return false }
            offset += n
        }
        return true
    }
}
