import Foundation
import GoldTFTP
import NIOCore
import Testing

@testable import GoldTFTPServer

/// Lock-step transfers on their own thread (`TFTPLockStepThread`): the same protocol as the event-loop driver,
/// checked packet by packet with a raw client.
@Suite("TFTP lock-step transfers on their own thread", .serialized)
struct LockStepThreadTests {
    static func configuration(threads: Int = 2, timeout: Duration = .seconds(2), retries: Int = 5)
        -> TFTPServerConfiguration
    {
        var configuration = TFTPServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.lockStepThreads = threads
        configuration.defaultTimeout = timeout
        configuration.retries = retries
        return configuration
    }

    @Test("a lost ACK brings the same block again; a duplicate ACK brings nothing twice; the transfer completes")
    func retransmitsAndIgnoresDuplicates() async throws {
        let content = ByteBuffer(bytes: (0..<700).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let records = RecordCollector()
        try await withServer(Self.configuration(), source: InMemoryFileSource(files: ["f": content]), records: records)
        {
            server, port in
            let client = try RawClient(serverPort: port)
            guard case .data(1, let first) = try await client.request("f") else {
                Issue.record("no block 1")
                return
            }
            #expect(server.activeTransfers == 1)
            // No ACK: the timer sends block 1 again, from the same port.
            let transferPort = client.peerPort
            guard case .data(1, let again) = try await client.receive() else {
                Issue.record("block 1 not retransmitted")
                return
            }
            #expect(again == first && client.peerPort == transferPort)
            // The ACK twice (as for the two copies): block 2 once, then the transfer waits for ACK 2. On a slow
            // machine the timer may have sent block 1 a third time meanwhile; those copies are skipped.
            client.send(.ack(block: 1), toPort: transferPort)
            client.send(.ack(block: 1), toPort: transferPort)
            var next = try await client.receive()
            while case .data(1, _) = next { next = try await client.receive() }
            guard case .data(2, let second) = next else {
                Issue.record("no block 2: \(String(describing: next))")
                return
            }
            #expect(second.readableBytes == 700 - 512)
            client.send(.ack(block: 2), toPort: transferPort)
            // Whether the timer sent block 2 again before ACK 2 arrived depends on the machine's load; the counts
            // below tell a retransmission from a duplicate send either way.
            for _ in 0..<400 where records.records.isEmpty { try await Task.sleep(for: .milliseconds(25)) }
            var joined = first
            joined.writeImmutableBuffer(second)
            #expect(joined == content, "the blocks differ from the file")
        }
        let record = try #require(records.records.first)
        #expect(record.outcome == .completed && record.bytesSent == 700)
        // Every DATA sent is a first send of one of the 2 blocks or a timer's retransmission: the duplicate ACK
        // sent nothing (the Sorcerer's Apprentice bug would add a send counted as neither).
        let statistics = try #require(record.statistics)
        #expect(statistics.retransmissions >= 1 && statistics.dataPacketsSent == 2 + statistics.retransmissions)
    }

    @Test("a silent client: block 1 is sent 1 + retries times, then the transfer ends timed out")
    func silentClientTimesOut() async throws {
        let records = RecordCollector()
        let source = InMemoryFileSource(files: ["f": ByteBuffer(repeating: 9, count: 2000)])
        try await withServer(
            Self.configuration(timeout: .milliseconds(300), retries: 2), source: source, records: records
        ) { _, port in
            let client = try RawClient(serverPort: port)
            #expect(try await client.request("f")?.opcode == .data)
            // The server gives up after its last retransmission; every copy it sent is in the socket by then.
            for _ in 0..<1200 where records.records.isEmpty { try await Task.sleep(for: .milliseconds(25)) }
            var copies = 1
            while case .data(1, _) = try await client.receive(milliseconds: 200) { copies += 1 }
            #expect(copies == 3)
        }
        #expect(records.records.map(\.outcome) == [.timedOut])
    }

    @Test("cancelling the server ends a transfer running on a thread")
    func cancelled() async throws {
        let records = RecordCollector()
        let source = InMemoryFileSource(files: ["f": ByteBuffer(repeating: 1, count: 10_000)])
        let server = TFTPServer(
            configuration: Self.configuration(timeout: .seconds(30)), fileSource: source, observer: records.observer)
        let task = Task { try await server.run() }
        let port = try await server.localAddress.port ?? 0
        let client = try RawClient(serverPort: port)
        #expect(try await client.request("f")?.opcode == .data)
        task.cancel()
        try await task.value
        #expect(records.records.map(\.outcome) == [.cancelled])
        #expect(server.activeTransfers == 0)
    }

    @Test("more lock-step transfers than threads: the rest run on the event loops, all complete")
    func overflowToEventLoops() async throws {
        let content = ByteBuffer(repeating: 5, count: 700)
        let records = RecordCollector()
        try await withServer(
            Self.configuration(threads: 1, timeout: .seconds(30)), source: InMemoryFileSource(files: ["f": content]),
            records: records
        ) {
            server, port in
            let clients = try (0..<3).map { _ in try RawClient(serverPort: port) }
            var ports: [Int] = []
            for client in clients {
                guard case .data(1, _) = try await client.request("f") else {
                    Issue.record("no block 1")
                    return
                }
                ports.append(client.peerPort)
            }
            #expect(server.activeTransfers == 3 && Set(ports).count == 3)
            for (client, port) in zip(clients, ports) {
                client.send(.ack(block: 1), toPort: port)
                guard case .data(2, let last) = try await client.receive() else {
                    Issue.record("no block 2")
                    return
                }
                #expect(last.readableBytes == 700 - 512)
                client.send(.ack(block: 2), toPort: port)
            }
            for _ in 0..<400 where records.records.count < 3 { try await Task.sleep(for: .milliseconds(25)) }
        }
        #expect(records.records.map(\.outcome) == [.completed, .completed, .completed])
    }
}
