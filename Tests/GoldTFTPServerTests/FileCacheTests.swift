import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import GoldTFTPServer

/// The file cache: its LRU bookkeeping as a value, then the cache over real files (no sockets), then real clients.
@Suite("TFTP file cache")
struct FileCacheTests {
    static func key(_ inode: UInt64, size: Int, changed: Int = 100) -> TFTPFileKey {
        let time = TFTPFileKey.Timestamp(seconds: changed, nanoseconds: 0)
        return TFTPFileKey(device: 1, inode: inode, size: size, modified: time, changed: time)
    }

    static func bytes(_ count: Int, _ value: UInt8) -> ByteBuffer {
        ByteBuffer(bytes: [UInt8](repeating: value, count: count))
    }

    // MARK: - Index (pure)

    @Test("index: a kept key is a hit, any other key (another version of the file too) a miss")
    func indexHitMiss() {
        var index = TFTPFileCacheIndex(budget: 100)
        index.insert(Self.key(1, size: 4), Self.bytes(4, 7))
        #expect(index.lookup(Self.key(1, size: 4)) == Self.bytes(4, 7))
        #expect(index.lookup(Self.key(2, size: 4)) == nil)
        #expect(index.lookup(Self.key(1, size: 4, changed: 101)) == nil)
        #expect(index.usedBytes == 4)
    }

    @Test("index: the least recently used file is evicted to make room, and only as many as needed")
    func indexEviction() {
        var index = TFTPFileCacheIndex(budget: 10)
        #expect(index.insert(Self.key(1, size: 4), Self.bytes(4, 1)).isEmpty)
        #expect(index.insert(Self.key(2, size: 4), Self.bytes(4, 2)).isEmpty)
        _ = index.lookup(Self.key(1, size: 4))  // 2 is now the least recently used
        #expect(index.insert(Self.key(3, size: 4), Self.bytes(4, 3)) == [Self.key(2, size: 4)])
        #expect(index.contains(Self.key(1, size: 4)))
        #expect(index.contains(Self.key(3, size: 4)))
        #expect(index.usedBytes == 8)
        #expect(index.insert(Self.key(4, size: 10), Self.bytes(10, 4)).count == 2)
        #expect(index.count == 1)
        #expect(index.usedBytes == 10)
    }

    @Test("index: contents larger than the budget, or empty, are not kept and evict nothing")
    func indexTooLarge() {
        var index = TFTPFileCacheIndex(budget: 10)
        index.insert(Self.key(1, size: 6), Self.bytes(6, 1))
        #expect(index.insert(Self.key(2, size: 11), Self.bytes(11, 2)).isEmpty)
        #expect(index.insert(Self.key(3, size: 0), ByteBuffer()).isEmpty)
        #expect(!index.contains(Self.key(2, size: 11)))
        #expect(!index.contains(Self.key(3, size: 0)))
        #expect(index.contains(Self.key(1, size: 6)))
    }

    // MARK: - Cache over real files

    /// A temporary directory with files written by the test.
    struct Directory {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gold-tftp-cache-\(UUID().uuidString)")

        init() throws {
            try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
        }

        func path(_ name: String) -> String { self.url.appendingPathComponent(name).path }

        func write(_ name: String, _ data: Data) throws {
            try data.write(to: self.url.appendingPathComponent(name))
        }

        /// Overwrites the file's bytes in place (same inode, same size).
        func overwriteInPlace(_ name: String, _ data: Data) throws {
            let handle = try FileHandle(forWritingTo: self.url.appendingPathComponent(name))
            try handle.write(contentsOf: data)
            try handle.close()
        }

        func remove() { try? FileManager.default.removeItem(at: self.url) }
    }

    static func contents(of file: TFTPFile) -> Data? {
        guard case .memory(let buffer) = file.storage else { return nil }
        return Data(buffer.readableBytesView)
    }

    static func serve(_ cache: TFTPFileCache, _ path: String) async throws -> TFTPFile {
        await cache.serve(try TFTPFile.open(path: path))
    }

    @Test("a miss reads the file once; later requests get the same bytes from memory")
    func missThenHit() async throws {
        let directory = try Directory()
        defer { directory.remove() }
        let data = TestRoot.content(70_000)
        try directory.write("kernel", data)
        let cache = TFTPFileCache(budget: 1 << 20, threadPool: .singleton, settleTime: .zero)
        let first = try await Self.serve(cache, directory.path("kernel"))
        let second = try await Self.serve(cache, directory.path("kernel"))
        #expect(Self.contents(of: first) == data)
        #expect(Self.contents(of: second) == data)
        #expect(first.size == data.count && second.size == data.count)
        #expect(cache.statistics == TFTPFileCache.Statistics(hits: 1, loads: 1, bypassed: 0, evictions: 0))
        #expect(cache.usedBytes == data.count)
    }

    @Test("requests arriving together share one read")
    func concurrentRequestsShareOneRead() async throws {
        let directory = try Directory()
        defer { directory.remove() }
        let data = TestRoot.content(300_000)
        try directory.write("initrd", data)
        let cache = TFTPFileCache(budget: 1 << 20, threadPool: .singleton, settleTime: .zero)
        let path = directory.path("initrd")
        let served = try await withThrowingTaskGroup(of: Data?.self) { group in
            for _ in 0..<20 { group.addTask { Self.contents(of: try await Self.serve(cache, path)) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(served.count == 20)
        #expect(served.allSatisfy { $0 == data })
        #expect(cache.statistics.loads == 1)
        #expect(cache.statistics.hits == 19)
    }

    @Test("a file changed in place (same size) or replaced is read again, never served stale")
    func changedFile() async throws {
        let directory = try Directory()
        defer { directory.remove() }
        let version1 = TestRoot.content(4096)
        let version2 = Data(version1.reversed())
        let version3 = TestRoot.content(5000)
        try directory.write("ipxe.efi", version1)
        let cache = TFTPFileCache(budget: 1 << 20, threadPool: .singleton, settleTime: .zero)
        let path = directory.path("ipxe.efi")
        #expect(Self.contents(of: try await Self.serve(cache, path)) == version1)

        try directory.overwriteInPlace("ipxe.efi", version2)
        #expect(Self.contents(of: try await Self.serve(cache, path)) == version2)

        // Replaced the way installers do it: a new file renamed over the old one (a new inode).
        try directory.write("ipxe.efi.new", version3)
        #expect(rename(directory.path("ipxe.efi.new"), path) == 0)
        #expect(Self.contents(of: try await Self.serve(cache, path)) == version3)
        #expect(cache.statistics.loads == 3)
        #expect(cache.statistics.hits == 0)
    }

    @Test("a file changed within the settle time, or larger than the budget, is streamed from disk")
    func bypass() async throws {
        let directory = try Directory()
        defer { directory.remove() }
        try directory.write("fresh", TestRoot.content(1000))
        try directory.write("large", TestRoot.content(3000))
        let settling = TFTPFileCache(budget: 1 << 20, threadPool: .singleton, settleTime: .seconds(3600))
        let fresh = try await Self.serve(settling, directory.path("fresh"))
        #expect(!fresh.isInMemory)
        #expect(fresh.size == 1000)
        let small = TFTPFileCache(budget: 2000, threadPool: .singleton, settleTime: .zero)
        #expect(!(try await Self.serve(small, directory.path("large"))).isInMemory)
        #expect(settling.statistics.bypassed == 1 && settling.statistics.loads == 0)
        #expect(small.statistics.bypassed == 1 && small.statistics.loads == 0)
        #expect(small.usedBytes == 0)
    }

    @Test("settling is judged by the injected clock against the file's ctime")
    func settleByClock() async throws {
        let directory = try Directory()
        defer { directory.remove() }
        try directory.write("boot", TestRoot.content(1000))
        let changed = try #require(try TFTPFile.open(path: directory.path("boot")).key).changed
        let early = TFTPFileCache(
            budget: 1 << 20, threadPool: .singleton, settleTime: .seconds(5), now: { changed.adding(.seconds(4)) })
        let late = TFTPFileCache(
            budget: 1 << 20, threadPool: .singleton, settleTime: .seconds(5), now: { changed.adding(.seconds(5)) })
        #expect(!(try await Self.serve(early, directory.path("boot"))).isInMemory)
        #expect((try await Self.serve(late, directory.path("boot"))).isInMemory)
    }

    @Test("over budget, the least recently served file is evicted and read again when asked for")
    func evictionOverRealFiles() async throws {
        let directory = try Directory()
        defer { directory.remove() }
        for name in ["a", "b", "c"] { try directory.write(name, TestRoot.content(1000 + Int(name.utf8.first!))) }
        let cache = TFTPFileCache(budget: 2500, threadPool: .singleton, settleTime: .zero)
        _ = try await Self.serve(cache, directory.path("a"))
        _ = try await Self.serve(cache, directory.path("b"))
        _ = try await Self.serve(cache, directory.path("a"))  // b is now the least recently used
        _ = try await Self.serve(cache, directory.path("c"))
        #expect(cache.statistics.evictions == 1)
        let a = try TFTPFile.open(path: directory.path("a"))
        let b = try TFTPFile.open(path: directory.path("b"))
        #expect(cache.contains(try #require(a.key)))
        #expect(!cache.contains(try #require(b.key)))
        #expect(Self.contents(of: try await Self.serve(cache, directory.path("b"))) == TestRoot.content(1098))
        #expect(cache.statistics.loads == 4)
    }

    @Test("bytes already in memory (rendered files) pass through untouched")
    func memoryFilesPassThrough() async throws {
        let cache = TFTPFileCache(budget: 1 << 20, threadPool: .singleton, settleTime: .zero)
        let file = await cache.serve(.string("#!ipxe\nexit\n"))
        #expect(Self.contents(of: file) == Data("#!ipxe\nexit\n".utf8))
        #expect(cache.statistics == TFTPFileCache.Statistics())
    }
}

/// Real clients downloading files the server serves from its cache (the other conformance tests mostly stream:
/// their files were written moments before, within the default settle time).
@Suite("TFTP file cache with real clients", .serialized)
struct FileCacheClientTests {
    @Test("byte-identical downloads from the cache, twice each", arguments: RealClientTests.Client.allCases)
    func cachedDownloads(_ client: RealClientTests.Client) async throws {
        let sizes = [511, 512, 513, 1 << 20]
        let root = try TestRoot(sizes: sizes)
        defer { root.remove() }
        var configuration = TFTPServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.fileCacheSettleTime = .zero
        let statistics = try await withServer(configuration, source: DirectoryFileSource(root: root.root.path)) {
            server, port in
            for size in sizes {
                for round in 1...2 {
                    let output = root.output("\(client.rawValue)-\(size)-\(round)")
                    let result = try await client.fetch(
                        host: "127.0.0.1", port: port, file: TestRoot.name(size), to: output)
                    #expect(result.status == 0, "\(client.rawValue) \(size) round \(round): \(result.output)")
                    let received = (try? Data(contentsOf: output)) ?? Data()
                    #expect(received == TestRoot.content(size), "\(client.rawValue) \(size) round \(round)")
                }
            }
            return server.fileCacheStatistics
        }
        #expect(statistics?.loads == sizes.count)
        #expect(statistics?.hits == sizes.count)
        #expect(statistics?.bypassed == 0)
    }
}
