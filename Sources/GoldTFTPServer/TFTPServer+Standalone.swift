import Logging
import ServiceLifecycle

extension TFTPServer {
    /// Serves `root` until SIGTERM or SIGINT (graceful), for `gold tftp serve --root DIR --listen HOST:PORT`.
    public static func serve(
        root: String,
        configuration: TFTPServerConfiguration,
        observer: TFTPTransferObserver? = nil,
        logger: Logger = Logger(label: "gold.tftp")
    ) async throws {
        let server = TFTPServer(
            configuration: configuration, fileSource: DirectoryFileSource(root: root), observer: observer,
            logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
    }

    /// Parses `HOST:PORT`, `[IPv6]:PORT` or `PORT` (host `::`) for `--listen`.
    public static func parseListen(_ text: String) -> (host: String, port: Int)? {
        if let port = Int(text) { return (0...65535).contains(port) ? ("::", port) : nil }
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return nil
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), text.firstIndex(of: ":") == colon else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else { return nil }
        return (String(host), port)
    }
}
