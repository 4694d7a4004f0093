import Foundation
import GoldCore
import Testing

@testable import GoldImage

@Suite struct RawImageDownloadTests {
    typealias Z = ImageVersionDetail.ZeroRange

    @Test func piecesCoverTheImageOnceWithHolesForZeroRanges() {
        let download = RawImageDownload(
            size: 100, sha256: "",
            zeroRanges: [Z(offset: 40, length: 10), Z(offset: 10, length: 5), Z(offset: 45, length: 20)],
            pieceSize: 16)
        #expect(
            download.pieces == [
                .data(offset: 0, length: 10), .zero(offset: 10, length: 5), .data(offset: 15, length: 16),
                .data(offset: 31, length: 9), .zero(offset: 40, length: 25), .data(offset: 65, length: 16),
                .data(offset: 81, length: 16), .data(offset: 97, length: 3),
            ])
        // Clipped to the image; an image that is all zeros fetches nothing.
        #expect(
            RawImageDownload(size: 8, sha256: "", zeroRanges: [Z(offset: 0, length: 99)]).pieces == [
                .zero(offset: 0, length: 8)
            ])
        #expect(RawImageDownload(size: 0, sha256: "", zeroRanges: []).pieces.isEmpty)
    }

    @Test func writesTheImageSparseAndChecksItsHash() async throws {
        let dir = try TestDirectory()
        let original = try ImageStoreTests.sampleImage(dir.path("a.raw"))  // chunk 1 (1-2 MiB) is zero
        let sha = ChunkHash(of: original).hex  // the SHA-256 of the whole image
        let download = RawImageDownload(
            size: UInt64(original.count), sha256: sha, zeroRanges: [Z(offset: 1 << 20, length: 1 << 20)],
            pieceSize: 3 << 19)
        var asked: [ClosedRange<UInt64>] = []
        var last: UInt64 = 0
        try await download.write(to: dir.path("out.raw")) { first, end in
            asked.append(first...end)
            return original.subdata(in: Int(first)..<Int(end) + 1)
        } progress: { done, total in
            #expect(done >= last && total == UInt64(original.count))
            last = done
        }
        #expect(try Data(contentsOf: dir.path("out.raw")) == original)
        #expect(last == UInt64(original.count))
        #expect(!asked.contains { $0.overlaps((1 << 20)...((2 << 20) - 1)) }, "the zero range was fetched: \(asked)")

        // Bytes that do not hash to the manifest's SHA-256: an error, and no file left behind.
        let error = await #expect(throws: GoldError.self) {
            try await download.write(to: dir.path("bad.raw")) { first, end in
                var piece = original.subdata(in: Int(first)..<Int(end) + 1)
                piece[piece.startIndex] ^= 1
                return piece
            }
        }
        #expect(error?.message.contains("its manifest says \(sha)") == true)
        #expect(!FileManager.default.fileExists(atPath: dir.path("bad.raw").path))
        let short = await #expect(throws: GoldError.self) {
            try await download.write(to: dir.path("short.raw")) { _, _ in Data([1, 2, 3]) }
        }
        #expect(short?.message.contains("got 3 bytes") == true)
    }
}
