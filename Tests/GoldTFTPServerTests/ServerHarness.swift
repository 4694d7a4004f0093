import Foundation
import GoldTFTP
import GoldTFTPServer
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Starts a `TFTPServer` on a free loopback port, runs `body`, then cancels the server and waits for `run()`.
func withServer<T: Sendable>(
    _ configuration: TFTPServerConfiguration = TFTPServerConfiguration(host: "127.0.0.1", port: 0),
    source: any TFTPFileSource,
    records: RecordCollector? = nil,
    _ body: (TFTPServer, Int) async throws -> T
) async throws -> T {
    var logger = Logger(label: "gold.tftp.test")
    logger.logLevel = .warning
    let server = TFTPServer(
        configuration: configuration, fileSource: source, observer: records?.observer, logger: logger)
    let task = Task { try await server.run() }
    do {
        let port = try await server.localAddress.port ?? 0
        let result = try await body(server, port)
        task.cancel()
        try await task.value
        return result
    } catch {
        task.cancel()
        _ = try? await task.value
        throw error
    }
}

/// Collects transfer records from the server's observer.
final class RecordCollector: Sendable {
    private let box = NIOLockedValueBox<[TFTPTransferRecord]>([])

    var observer: TFTPTransferObserver { { record in self.box.withLockedValue { $0.append(record) } } }

    var records: [TFTPTransferRecord] { self.box.withLockedValue { $0 } }
}
