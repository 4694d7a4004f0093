import Foundation
import GoldCore
import Testing

@testable import GoldImage

@Suite struct ChunkStoreTests {
    @Test func storesEachChunkOnceByHash() throws {
        let dir = try TestDirectory()
        let store = ChunkStore(root: dir.url)
        let bytes = Data("hello chunk".utf8)
        let first = try store.put(bytes)
        let second = try store.put(bytes)
        #expect(first.isNew)
        #expect(!second.isNew)
        #expect(first.hash.hex == "\(ChunkHash(of: bytes))")
        #expect(store.url(for: first.hash).path.hasSuffix("chunks/\(first.hash.hex.prefix(2))/\(first.hash.hex)"))
        #expect(try store.all().count == 1)
        #expect(try store.get(first.hash) == bytes)
    }

    @Test func corruptChunkIsAnErrorNamingIt() throws {
        let dir = try TestDirectory()
        let store = ChunkStore(root: dir.url)
        let (hash, _) = try store.put(Data(repeating: 7, count: 4096))
        try Data(repeating: 8, count: 4096).write(to: store.url(for: hash))
        let error = #expect(throws: GoldError.self) { try store.get(hash) }
        #expect(error?.message.contains(hash.hex) == true)
        #expect(error?.message.contains("corrupt") == true)
    }

    @Test func missingChunkIsNotFound() throws {
        let dir = try TestDirectory()
        let hash = ChunkHash(of: Data("absent".utf8))
        let error = #expect(throws: GoldError.self) { try ChunkStore(root: dir.url).get(hash) }
        #expect(error?.code == .notFound)
    }

    @Test func writesLeaveNoTemporaryFilesAndHalfWrittenOnesAreInvisible() throws {
        let dir = try TestDirectory()
        let store = ChunkStore(root: dir.url)
        for i in 0..<5 { try store.put(Data(repeating: UInt8(i + 1), count: 1000)) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.temporaryDirectory.path).isEmpty)
        // A crash mid-write leaves only a temporary file: it is not a chunk, and cleanup removes it.
        let partial = store.temporaryDirectory.appendingPathComponent(".\(ChunkHash(of: Data([9])).hex).crash")
        try Data([9, 9]).write(to: partial)
        #expect(try store.all().count == 5)
        #expect(!store.contains(ChunkHash(of: Data([9]))))
        store.removeLeftovers()
        #expect(!FileManager.default.fileExists(atPath: partial.path))
    }

    @Test(arguments: [
        ([UInt8](repeating: 0, count: 1 << 20), true),
        ([UInt8](repeating: 0, count: 3 * (1 << 20) + 17), true),
        ([UInt8](repeating: 0, count: 4095) + [1], false),
        ([1] + [UInt8](repeating: 0, count: 4095), false),
        ([], true),
    ])
    func zeroDetection(bytes: [UInt8], isZero: Bool) {
        #expect(bytes.withUnsafeBytes { ChunkStore.isZero($0) } == isZero)
    }

    @Test(arguments: [
        "", "abc", String(repeating: "A", count: 64), String(repeating: "a", count: 63) + "/",
        "../" + String(repeating: "a", count: 61),
    ])
    func hashNamesAreValidated(text: String) {
        #expect(ChunkHash(text) == nil)
    }
}
