import Foundation
import GoldCore
import GoldDirector
import GoldSQLite
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import UnixSignals
import Synchronization

/// One Gold process: the roles its configuration names, as services of one `ServiceGroup`.
public struct GoldProcess: Sendable {
    public let config: ServerConfig
    public let logger: Logger

    public init(config: ServerConfig, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    /// Opens the store the configuration names.
    public static func openStore(_ config: ServerConfig) throws -> any GoldStore {
        if let path = config.sqlitePath {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            return try SQLiteStore(path: path)
        }
        throw GoldError(.unavailable, "the PostgreSQL store is not built yet; use 'store: sqlite'", at: "director.store")
    }

    /// Runs every role until SIGTERM or SIGINT, then drains them in reverse order.
    public func run(onDirectorRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var services: [any Service] = []
        if config.roles.contains(.director) {
            let store = try Self.openStore(config)
            let director = Director(store: store, registry: Metrics.registry, logger: logger)
            services.append(director.makeApplication(host: config.director.listen.host, port: config.director.listen.port) { port in
                logger.info("director listening", metadata: ["address": "\(config.director.listen.host):\(port)"])
                await onDirectorRunning(port)
            })
        }
        for role in config.roles where role != .director {
            logger.warning("role not built yet; this process does not run it", metadata: ["role": "\(role.rawValue)"])
        }
        guard !services.isEmpty else {
            throw GoldError(.invalidInput, "no role this process can run; roles: \(config.roles.map(\.rawValue).joined(separator: ", "))", at: "roles")
        }
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }

    /// Process-wide metrics: one Prometheus registry behind swift-metrics, bootstrapped once.
    public enum Metrics {
        public static let registry: PrometheusCollectorRegistry = {
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            return registry
        }()
    }
}
