import Foundation
import GoldImage
import GoldSpawn

/// Chunks from a local image store directory (`gold-agent write-image --store`): the offline counterpart of the
/// deploy server's `/chunks/<sha256>`.
///
/// The bytes are returned as stored, unverified: ``ImageWriter`` hashes every chunk it is given before writing it
/// (and fails naming the chunk when it stays corrupt), so verifying here too (``ImageStore/readChunk(_:)``) would
/// hash every byte twice.
public struct StoreChunkSource: ChunkSource {
    public let store: ImageStore

    public init(store: ImageStore) { self.store = store }

    /// Read on a Dispatch thread: from a cold page cache this waits for the disk, and the writer keeps several
    /// fetches in flight while the cores hash.
    public func chunk(_ hash: ChunkHash) async throws -> [UInt8] {
        let path = store.chunks.url(for: hash).path
        let root = store.root.path
        return try await Blocking.run { try Self.readFile(hash, path: path, store: root) }
    }

    static func readFile(_ hash: ChunkHash, path: String, store root: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw AgentError("chunk \(hash) is not in the image store \(root) (\(path): \(reason))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw AgentError("stat \(path): \(String(cString: strerror(errno)))") }
        let size = Int(info.st_size)
        if size == 0 { return [] }  // an emptied chunk: the writer's hash check names it
        var failure: String?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var done = 0
            while done < size {
                let n = read(fd, buffer.baseAddress! + done, size - done)
                if n < 0 && errno == EINTR { continue }
                if n < 0 {
                    failure = String(cString: strerror(errno))
                    break
                }
                if n == 0 { break }  // shrank while being read: the writer's hash check catches it
                done += n
            }
            count = done
        }
        if let failure { throw AgentError("reading chunk \(hash) from \(path): \(failure)") }
        return bytes
    }
}
