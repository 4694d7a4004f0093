import Foundation
import GoldCore
import Testing

@testable import GoldImage

@Suite struct ManifestCacheTests {
    func manifest(_ version: Int) -> ImageManifest {
        ImageManifest(
            machine: "m", version: version, parent: nil, change: .capture, description: "v\(version)", created: 0,
            disks: [])
    }

    @Test func aFileIsDecodedOnceUntilItIsReplaced() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "gold-manifest-cache-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/manifest.json"
        try manifest(1).encoded().write(to: URL(fileURLWithPath: path))
        let cache = ManifestCache(maxEntries: 2)
        var loads = 0
        func read() throws -> ImageManifest {
            try cache.manifest(try #require(ManifestCache.key(path))) {
                loads += 1
                return try ImageManifest.decode(try Data(contentsOf: URL(fileURLWithPath: path)), at: path)
            }
        }
        #expect(try read().version == 1)
        #expect(try read().version == 1)
        #expect(loads == 1)
        // Replaced by rename, as the store writes: another inode, read again.
        try manifest(2).encoded().write(to: URL(fileURLWithPath: path), options: .atomic)
        #expect(try read().version == 2)
        #expect(loads == 2)
        // Bounded by count.
        for index in 0..<5 {
            let other = dir + "/m\(index).json"
            try manifest(index).encoded().write(to: URL(fileURLWithPath: other))
            _ = cache.manifest(try #require(ManifestCache.key(other))) { manifest(index) }
        }
        #expect(cache.count == 2)
    }
}
