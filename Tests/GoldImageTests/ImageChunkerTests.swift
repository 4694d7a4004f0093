import Foundation
import GoldCore
import Testing

@testable import GoldImage

/// The import's chunking against a reference computed by other tools (sha256sum, dd): holes skipped, written
/// zeros, data, a short last chunk, and chunks larger than the chunker's 1 MiB zero buffer.
@Suite struct ImageChunkerTests {
    /// `chunkSize` 4 KiB and 3 MiB; a file of holes, data, a data range of written zeros and a short tail.
    @Test(arguments: [4096, 3 << 20])
    func chunksAndWholeHashMatchAReference(chunkSize: Int) throws {
        let dir = try TestDirectory("chunker")
        let image = dir.path("disk.raw")
        let size = 4 * chunkSize + chunkSize / 2 + 100
        // chunk 0: data; chunk 1: hole; chunk 2: written zeros; chunk 3: data in its second half; tail: data.
        try sh(
            "truncate -s \(size) '\(image.path)' && printf 'first chunk' | dd of='\(image.path)' conv=notrunc status=none "
                + "&& dd if=/dev/zero of='\(image.path)' bs=\(chunkSize) seek=2 count=1 conv=notrunc status=none "
                + "&& printf 'third' | dd of='\(image.path)' bs=1 seek=\(3 * chunkSize + chunkSize / 2) conv=notrunc status=none "
                + "&& printf 'tail' | dd of='\(image.path)' bs=1 seek=\(size - 4) conv=notrunc status=none")
        let store = ChunkStore(root: dir.path("store"), chunkSize: chunkSize)
        var stats = ImportStats(version: 1, totalChunks: 0, zeroChunks: 0, newChunks: 0, totalBytes: 0, newBytes: 0)
        let result = try ImageChunker(chunks: store).chunk(image, stats: &stats)

        #expect(result.size == UInt64(size))
        #expect(result.sha256 == String(try sh("sha256sum '\(image.path)'").prefix(64)))
        let reference: [String?] = try (0..<5).map { i in
            let nonZero = try sh(
                "dd if='\(image.path)' bs=\(chunkSize) skip=\(i) count=1 status=none | tr -d '\\000' | wc -c")
            if Int(nonZero.trimmingCharacters(in: .whitespacesAndNewlines)) == 0 { return nil }
            return String(
                try sh("dd if='\(image.path)' bs=\(chunkSize) skip=\(i) count=1 status=none | sha256sum").prefix(64))
        }
        #expect(result.hashes.map { $0?.hex } == reference)
        #expect(reference.map { $0 == nil } == [false, true, true, false, false])
        #expect(stats.totalChunks == 5 && stats.zeroChunks == 2 && stats.newChunks == 3)
        #expect(stats.totalBytes == UInt64(size))
        for hash in result.hashes.compactMap({ $0 }) { #expect(try store.get(hash).count > 0) }

        var again = ImportStats(version: 2, totalChunks: 0, zeroChunks: 0, newChunks: 0, totalBytes: 0, newBytes: 0)
        #expect(try ImageChunker(chunks: store).chunk(image, stats: &again).hashes == result.hashes)
        #expect(again.newChunks == 0 && again.newBytes == 0)
    }

    @Test func missingImageIsNotFound() throws {
        let dir = try TestDirectory("chunker")
        var stats = ImportStats(version: 1, totalChunks: 0, zeroChunks: 0, newChunks: 0, totalBytes: 0, newBytes: 0)
        let error = #expect(throws: GoldError.self) {
            try ImageChunker(chunks: ChunkStore(root: dir.url)).chunk(dir.path("absent.raw"), stats: &stats)
        }
        #expect(error?.code == .notFound)
    }
}
