import Foundation
import GoldCore
import Testing

@testable import GoldImage

@Suite struct ServingTests {
    @Test(arguments: [
        (nil as String?, 1000 as UInt64, ByteRange.whole),
        ("bytes=0-99", 1000, .partial(lower: 0, upper: 99)),
        ("bytes=900-", 1000, .partial(lower: 900, upper: 999)),
        ("bytes=-100", 1000, .partial(lower: 900, upper: 999)),
        ("bytes=-5000", 1000, .partial(lower: 0, upper: 999)),
        ("bytes=990-5000", 1000, .partial(lower: 990, upper: 999)),
        ("bytes=1000-", 1000, .unsatisfiable),
        ("bytes=0-1,5-6", 1000, .whole),
        ("items=0-1", 1000, .whole),
        ("bytes=9-3", 1000, .whole),
    ])
    func rangeHeaders(header: String?, length: UInt64, expected: ByteRange) {
        #expect(ByteRange.parse(header, length: length) == expected)
    }

    @Test func servesManifestChunksAndRanges() throws {
        let dir = try TestDirectory()
        let store = ImageStore(root: dir.path("store"))
        let original = try ImageStoreTests.sampleImage(dir.path("a.raw"))
        try store.importImage(file: dir.path("a.raw"), machine: "node1", change: .provision)
        let handler = ImageRequestHandler(store: store)

        let manifest = handler.handle(path: "/images/node1/current/manifest.json")
        #expect(manifest.status == 200)
        let decoded = try ImageManifest.decode(try manifest.read(offset: 0, count: 1 << 20), at: "response")
        #expect(decoded == (try store.manifest(machine: "node1", version: 1)))

        let whole = handler.handle(path: "/images/node1/1/disk0.raw")
        #expect(whole.status == 200 && whole.contentLength == UInt64(original.count))
        var body = Data()
        while UInt64(body.count) < whole.contentLength {
            body.append(try whole.read(offset: UInt64(body.count), count: 1 << 20))
        }
        #expect(body == original)

        let partial = handler.handle(path: "/images/node1/1/disk0.raw", range: "bytes=1048570-1048585")
        #expect(partial.status == 206)
        #expect(partial.headers.contains { $0 == ("Content-Range", "bytes 1048570-1048585/\(original.count)") })
        #expect(try partial.read(offset: 0, count: 100) == original.subdata(in: 1_048_570..<1_048_586))

        let hash = try #require(decoded.disks[0].chunks[0])
        let chunk = handler.handle(path: "/chunks/\(hash.hex)")
        #expect(chunk.status == 200)
        #expect(try chunk.read(offset: 0, count: 2 << 20) == original.prefix(1 << 20))

        #expect(handler.handle(path: "/images/node1/1/disk0.raw", range: "bytes=99999999-").status == 416)
        #expect(handler.handle(path: "/images/node1/7/manifest.json").status == 404)
        #expect(handler.handle(path: "/chunks/../../etc/passwd").status == 404)
        #expect(handler.handle(path: "/chunks/zz").status == 400)
        #expect(handler.handle(method: "PUT", path: "/chunks/zz").status == 405)
        #expect(handler.handle(method: "HEAD", path: "/images/node1/1/disk0.raw").contentLength == 0)
        let list = handler.handle(path: "/images/node1")
        #expect(String(decoding: try list.read(offset: 0, count: 10000), as: UTF8.self).contains("\"current\":1"))

        try Data(repeating: 2, count: 1 << 20).write(to: store.chunks.url(for: hash))  // corrupt
        #expect(handler.handle(path: "/chunks/\(hash.hex)").status == 500)
        #expect(throws: GoldError.self) { try whole.read(offset: 0, count: 10) }
    }
}
