import Foundation
import Synchronization

/// Decoded manifests by file (path, size, modification time, inode), shared by every `ImageStore` value in the process:
/// a captured disk's manifest runs to megabytes, and the deploy server once decoded it for every request of its disk.
/// A manifest file is written once, by rename, so a changed file has another inode or time and is read again.
/// Bounded by count and by the bytes of the files behind the entries.
final class ManifestCache: Sendable {
    struct Key: Hashable {
        var path: String
        var size: Int
        var modified: Int64
        var inode: UInt64
    }

    private let state = Mutex<(entries: [Key: (manifest: ImageManifest, used: UInt64)], bytes: Int, clock: UInt64)>(
        ([:], 0, 0))
    let maxEntries: Int
    let maxBytes: Int

    init(maxEntries: Int = 256, maxBytes: Int = 128 << 20) {
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
    }

    static let shared = ManifestCache()

    /// The file's key, from `stat`; nil when it cannot be read.
    static func key(_ path: String) -> Key? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Key(
            path: path, size: Int(info.st_size),
            modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
            inode: UInt64(info.st_ino))
    }

    func manifest(_ key: Key, load: () throws -> ImageManifest) rethrows -> ImageManifest {
        if let hit = state.withLock({ state -> ImageManifest? in
            guard let entry = state.entries[key] else { return nil }
            state.clock += 1
            state.entries[key]?.used = state.clock
            return entry.manifest
        }) {
            return hit
        }
        let manifest = try load()
        guard key.size <= maxBytes / 4 else { return manifest }
        state.withLock { state in
            state.clock += 1
            if state.entries[key] == nil { state.bytes += key.size }
            state.entries[key] = (manifest, state.clock)
            while state.entries.count > maxEntries || state.bytes > maxBytes,
                let oldest = state.entries.min(by: { $0.value.used < $1.value.used })?.key
            {
                state.entries[oldest] = nil
                state.bytes -= oldest.size
            }
        }
        return manifest
    }

    var count: Int { state.withLock { $0.entries.count } }
}
