import Foundation
import GoldTFTP
import GoldTFTPServer
import NIOCore
import Testing

/// Requests the server must refuse, with the RFC 1350 error code each one gets on the wire.
@Suite("TFTP server refusals, confinement and limits", .serialized)
struct RefusalTests {
    /// A root with a file, a directory, a symlink escaping to a sibling whose name shares the root's prefix
    /// (`root-private` beside `root`), a symlink to /etc/passwd and a symlink that stays inside.
    static func makeRoot() throws -> TestRoot {
        let root = try TestRoot(sizes: [513])
        let fileManager = FileManager.default
        let sibling = root.url.appendingPathComponent("root-private")
        try fileManager.createDirectory(at: sibling, withIntermediateDirectories: true)
        try Data("secret".utf8).write(to: sibling.appendingPathComponent("secret"))
        try fileManager.createDirectory(
            at: root.root.appendingPathComponent("pxelinux.cfg"), withIntermediateDirectories: true)
        try fileManager.createSymbolicLink(
            atPath: root.root.appendingPathComponent("escape").path, withDestinationPath: "../root-private/secret")
        try fileManager.createSymbolicLink(
            atPath: root.root.appendingPathComponent("passwd").path, withDestinationPath: "/etc/passwd")
        try fileManager.createSymbolicLink(
            atPath: root.root.appendingPathComponent("dirlink").path, withDestinationPath: "../root-private")
        try fileManager.createSymbolicLink(
            atPath: root.root.appendingPathComponent("inside").path, withDestinationPath: TestRoot.name(513))
        return root
    }

    struct Refusal: CustomTestStringConvertible, Sendable {
        var filename: String
        var code: TFTPErrorCode
        var mode: TFTPMode = .octet
        var options: [TFTPOption] = []
        var testDescription: String { "'\(self.filename)' → \(self.code)" }
    }

    static let corpus: [Refusal] = [
        Refusal(filename: "../root-private/secret", code: .accessViolation),
        Refusal(filename: "/../../etc/passwd", code: .accessViolation),
        Refusal(filename: "pxelinux.cfg/../../root-private/secret", code: .accessViolation),
        Refusal(filename: "..\\root-private\\secret", code: .accessViolation),
        Refusal(filename: "escape", code: .accessViolation),
        Refusal(filename: "passwd", code: .accessViolation),
        Refusal(filename: "dirlink/secret", code: .accessViolation),
        Refusal(filename: "missing", code: .fileNotFound),
        Refusal(filename: "/", code: .fileNotFound),
        Refusal(filename: "pxelinux.cfg", code: .fileNotFound),
        Refusal(filename: "file-513.bin", code: .illegalOperation, mode: .mail),
        Refusal(
            filename: "file-513.bin", code: .optionNegotiationRefused,
            options: [.init("blksize", "512"), .init("blksize", "1024")]),
    ]

    @Test("traversal and bad requests are refused with the right code and recorded", arguments: corpus)
    func refused(_ refusal: Refusal) async throws {
        let root = try Self.makeRoot()
        defer { root.remove() }
        let records = RecordCollector()
        try await withServer(source: DirectoryFileSource(root: root.root.path), records: records) { _, port in
            let client = try RawClient(serverPort: port)
            let answer = try await client.request(refusal.filename, mode: refusal.mode, options: refusal.options)
            guard case .error(let code, let message) = answer else {
                Issue.record("expected ERROR \(refusal.code), got \(String(describing: answer))")
                return
            }
            #expect(code == refusal.code, "\(message)")
            #expect(!message.contains(root.url.path), "message leaks a host path: \(message)")
        }
        let record = try #require(records.records.first)
        if case .refused(let code, _) = record.outcome {
            #expect(code == refusal.code)
        } else {
            Issue.record("record outcome \(record.outcome)")
        }
        #expect(record.requestedFilename == refusal.filename)
    }

    @Test("a leading slash and a symlink inside the root are served")
    func allowed() async throws {
        let root = try Self.makeRoot()
        defer { root.remove() }
        try await withServer(source: DirectoryFileSource(root: root.root.path)) { _, port in
            for name in ["/file-513.bin", "inside", "./file-513.bin"] {
                let client = try RawClient(serverPort: port)
                let answer = try await client.request(name)
                #expect(
                    answer == .data(block: 1, payload: ByteBuffer(bytes: Array(TestRoot.content(513).prefix(512)))),
                    "\(name)")
                client.send(.error(code: .notDefined, message: "enough"), toPort: client.peerPort)
            }
        }
    }

    @Test("WRQ gets error 2, stray ACK gets error 5, garbage gets error 4")
    func otherPackets() async throws {
        try await withServer(source: InMemoryFileSource(files: [:])) { _, port in
            let client = try RawClient(serverPort: port)
            client.send(.writeRequest(TFTPRequest(filename: "upload", mode: .octet)))
            guard case .error(let code, let message) = try await client.receive() else {
                Issue.record("no answer to WRQ")
                return
            }
            #expect(code == .accessViolation)
            #expect(message.contains("read-only"))
            client.send(.ack(block: 3))
            guard case .error(.unknownTransferID, _) = try await client.receive() else {
                Issue.record("no error 5")
                return
            }
            client.sendRaw([0, 9, 1, 2])
            guard case .error(.illegalOperation, let garbage) = try await client.receive() else {
                Issue.record("no error 4")
                return
            }
            #expect(garbage.contains("unknown opcode 9"))
        }
    }

    @Test("the dynamic hook is consulted before the directory")
    func dynamicHook() async throws {
        let root = try Self.makeRoot()
        defer { root.remove() }
        let source = DirectoryFileSource(root: root.root.path) { path, _ in
            path == "pxelinux.cfg/01-52-54-00-12-34-56" ? .string("DEFAULT gold\n") : nil
        }
        try await withServer(source: source) { _, port in
            let client = try RawClient(serverPort: port)
            let answer = try await client.request("/pxelinux.cfg/01-52-54-00-12-34-56")
            #expect(answer == .data(block: 1, payload: ByteBuffer(string: "DEFAULT gold\n")))
            client.send(.ack(block: 1), toPort: client.peerPort)
            let fromDirectory = try RawClient(serverPort: port)
            #expect(try await fromDirectory.request("file-513.bin")?.opcode == .data)
            fromDirectory.send(.error(code: .notDefined, message: "enough"), toPort: fromDirectory.peerPort)
        }
    }

    @Test("limits: server-wide and per-client transfers are refused politely", arguments: [false, true])
    func limits(singlePort: Bool) async throws {
        let source = InMemoryFileSource(files: ["big": ByteBuffer(repeating: 7, count: 100_000)])
        let configuration = TFTPServerConfiguration(
            host: "127.0.0.1", port: 0, singlePort: singlePort, maxTransfers: 2, maxPerClient: 1)
        let records = RecordCollector()
        try await withServer(configuration, source: source, records: records) { server, port in
            // Each client receives DATA 1 and never acknowledges: its transfer stays open.
            let first = try RawClient(serverPort: port)
            #expect(try await first.request("big")?.opcode == .data)
            let sameAddress = try RawClient(serverPort: port)
            guard case .error(.notDefined, let perClient) = try await sameAddress.request("big") else {
                Issue.record("second transfer from 127.0.0.1 was not refused")
                return
            }
            #expect(perClient.contains("too many transfers from this client"))
            let other = try RawClient(serverPort: port, bindHost: "127.0.0.2")
            #expect(try await other.request("big")?.opcode == .data)
            let third = try RawClient(serverPort: port, bindHost: "127.0.0.3")
            guard case .error(.notDefined, let busy) = try await third.request("big") else {
                Issue.record("third transfer was not refused")
                return
            }
            #expect(busy.contains("server busy"))
            #expect(server.activeTransfers == 2)
            // Ending one transfer frees its slot.
            first.send(.error(code: .notDefined, message: "bye"), toPort: first.peerPort)
            var freed = false
            for _ in 0..<200 where !freed {
                freed = server.activeTransfers == 1
                if !freed { try await Task.sleep(for: .milliseconds(5)) }
            }
            #expect(freed)
            #expect(try await third.request("big")?.opcode == .data)
        }
        #expect(records.records.filter { if case .refused = $0.outcome { true } else { false } }.count == 2)
    }

    @Test("graceful shutdown lets the running transfer finish, then run() returns")
    func gracefulShutdown() async throws {
        let source = InMemoryFileSource(files: ["two-blocks": ByteBuffer(repeating: 1, count: 513)])
        let server = TFTPServer(configuration: TFTPServerConfiguration(host: "127.0.0.1", port: 0), fileSource: source)
        let task = Task { try await server.run() }
        let port = try await server.localAddress.port ?? 0
        let client = try RawClient(serverPort: port)
        #expect(try await client.request("two-blocks")?.opcode == .data)
        server.triggerGracefulShutdown()
        client.send(.ack(block: 1), toPort: client.peerPort)
        guard case .data(2, let last) = try await client.receive() else {
            Issue.record("block 2 not sent after shutdown began")
            return
        }
        #expect(last.readableBytes == 1)
        #expect(server.activeTransfers == 1)
        client.send(.ack(block: 2), toPort: client.peerPort)
        try await task.value
        #expect(server.activeTransfers == 0)
    }

    @Test("cancelling run() ends running transfers")
    func cancellation() async throws {
        let source = InMemoryFileSource(files: ["big": ByteBuffer(repeating: 1, count: 10_000)])
        let records = RecordCollector()
        let server = TFTPServer(
            configuration: TFTPServerConfiguration(host: "127.0.0.1", port: 0), fileSource: source,
            observer: records.observer)
        let task = Task { try await server.run() }
        let port = try await server.localAddress.port ?? 0
        let client = try RawClient(serverPort: port)
        #expect(try await client.request("big")?.opcode == .data)
        task.cancel()
        try await task.value
        #expect(records.records.map(\.outcome) == [.cancelled])
    }
}
