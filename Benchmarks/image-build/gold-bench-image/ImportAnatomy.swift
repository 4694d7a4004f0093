import Crypto
import Foundation
import GoldImage

/// The import's parts timed one at a time on one image (single thread): what the store's import costs made of.
enum ImportAnatomy {
    static func measure(_ image: URL, store: ImageStore) throws -> [(String, Double)] {
        let chunk = store.chunks.chunkSize
        var out: [(String, Double)] = []
        func time(_ name: String, _ body: () throws -> Void) rethrows {
            let start = ContinuousClock.now
            try body()
            out.append((name, (ContinuousClock.now - start).seconds))
        }
        var nonZero: [Int] = []
        let zeros = [UInt8](repeating: 0, count: chunk)
        try time("read 1 MiB chunks + zero test") {
            let handle = try FileHandle(forReadingFrom: image)
            defer { try? handle.close() }
            var index = 0
            while let data = try handle.read(upToCount: chunk), !data.isEmpty {
                let zero = data.withUnsafeBytes { b in
                    zeros.withUnsafeBytes { memcmp($0.baseAddress!, b.baseAddress!, b.count) == 0 }
                }
                if !zero { nonZero.append(index) }
                index += 1
            }
        }
        try time("read + SHA-256 of the whole image") {
            let handle = try FileHandle(forReadingFrom: image)
            defer { try? handle.close() }
            var hasher = SHA256()
            while let data = try handle.read(upToCount: chunk), !data.isEmpty { hasher.update(data: data) }
            _ = hasher.finalize()
        }
        var hashes: [ChunkHash] = []
        try time("read + SHA-256 of the \(nonZero.count) non-zero chunks") {
            let handle = try FileHandle(forReadingFrom: image)
            defer { try? handle.close() }
            for index in nonZero {
                try handle.seek(toOffset: UInt64(index * chunk))
                hashes.append(ChunkHash(of: try handle.read(upToCount: chunk) ?? Data()))
            }
        }
        time("store lookups (exists) of those chunks") {
            for hash in hashes { _ = store.chunks.contains(hash) }
        }
        return out
    }
}
