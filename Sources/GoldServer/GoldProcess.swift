import Foundation
import GoldCompile
import GoldCore
import GoldDeploy
import GoldDirector
import GoldRunner
import GoldSQLite
import GoldTFTPServer
import GoldWorkflow
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Synchronization
import UnixSignals

/// One Gold process: the roles its configuration names, as services of one `ServiceGroup`.
public struct GoldProcess: Sendable {
    public let config: ServerConfig
    public let logger: Logger

    public init(config: ServerConfig, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    /// Opens the store the configuration names.
    public static func openStore(_ config: ServerConfig) throws -> any GoldStore & WorkflowStore & CompileJobStore {
        if let path = config.sqlitePath {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            return try SQLiteStore(path: path)
        }
        throw GoldError(
            .unavailable, "the PostgreSQL store is not built yet; use 'store: sqlite'", at: "director.store")
    }

    /// Runs every role until SIGTERM or SIGINT, then drains them in reverse order.
    public func run(onDirectorRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var services: [any Service] = []
        let workerName = "compile@\(ProcessInfo.processInfo.hostName):\(getpid())"
        if config.roles.contains(.director) {
            let store = try Self.openStore(config)
            // The queue lives in the director's store; a compile role in this process works it directly.
            let hub = try CompileHub(config: config, store: store)
            if config.roles.contains(.compile) {
                services.append(
                    CompileService(
                        worker: CompileWorker(
                            name: workerName, queue: hub.queue, store: hub.artifacts,
                            workDir: config.compile.workDir ?? "/var/cache/gold/compile",
                            configuration: config.compile.workerConfiguration, logger: logger)))
            }
            let actions = LiveMachineActions(
                config: config, store: store, compile: hub, localCompileWorker: config.roles.contains(.compile),
                logger: logger)
            let runner = WorkflowRunner(store: store, actions: actions, logger: logger)
            services.append(runner)
            services.append(EventRetention(store: store, days: config.director.eventRetentionDays, logger: logger))
            let director = Director(
                store: store, registry: Metrics.registry, logger: logger, workflows: runner,
                backups: BinaryBackups(root: config.dataDir + "/backups"), imageStore: config.dataDir + "/images",
                compileQueue: hub.queue, artifacts: hub.artifacts)
            services.append(
                director.makeApplication(host: config.director.listen.host, port: config.director.listen.port) { port in
                    logger.info("director listening", metadata: ["address": "\(config.director.listen.host):\(port)"])
                    await onDirectorRunning(port)
                })
        } else if config.roles.contains(.compile) {
            // A compile server of its own: leases from the director over HTTP and uploads artifacts to it.
            let token = try Self.serverToken(
                config.compile.tokenFile ?? config.dataDir + "/server.token", role: "compile")
            logger.info(
                "compile role", metadata: ["director": "\(config.compile.director)", "worker": "\(workerName)"])
            services.append(
                CompileService(
                    worker: CompileWorker(
                        name: workerName,
                        queue: RemoteCompileQueue(director: config.compile.director, token: token),
                        store: RemoteArtifactStore(director: config.compile.director, token: token),
                        workDir: config.compile.workDir ?? "/var/cache/gold/compile",
                        configuration: config.compile.workerConfiguration, logger: logger)))
        }
        if config.roles.contains(.deploy) {
            services += try deployServices()
        }
        guard !services.isEmpty else {
            throw GoldError(
                .invalidInput,
                "no role this process can run; roles: \(config.roles.map(\.rawValue).joined(separator: ", "))",
                at: "roles")
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }

    /// The build/deploy role: HTTP boot, TFTP, and the reporter that tells the director who fetched what.
    func deployServices() throws -> [any Service] {
        let token = try Self.serverToken(config.deploy.tokenFile ?? config.dataDir + "/server.token", role: "deploy")
        let tftpRoot = config.deploy.tftpRoot ?? config.dataDir + "/tftp"
        let filesDir = config.dataDir + "/boot/files"
        try FileManager.default.createDirectory(atPath: filesDir + "/netboot", withIntermediateDirectories: true)
        try BootFiles.install(into: tftpRoot)
        var tftp = TFTPServerConfiguration()
        tftp.host = config.deploy.tftp.host
        tftp.port = config.deploy.tftp.port
        tftp.singlePort = config.deploy.singlePort
        let publicURL =
            config.deploy.publicURL
            ?? (["0.0.0.0", "::"].contains(config.deploy.http.host) ? nil : "http://\(config.deploy.http)")
        let server = DeployServer(
            configuration: .init(
                httpHost: config.deploy.http.host, httpPort: config.deploy.http.port, publicURL: publicURL,
                tftp: tftp, filesDir: filesDir, tftpRoot: tftpRoot, imageStore: config.dataDir + "/images",
                artifactStore: config.dataDir + "/artifacts"),
            link: DirectorLink(url: config.deploy.director, token: token), logger: logger)
        let http = Application(
            router: server.makeRouter(),
            configuration: .init(
                address: .hostname(config.deploy.http.host, port: config.deploy.http.port), serverName: "gold-deploy"),
            logger: logger)
        logger.info(
            "deploy role",
            metadata: ["http": "\(config.deploy.http)", "tftp": "\(config.deploy.tftp)", "tftp_root": "\(tftpRoot)"])
        var services: [any Service] = [server.reporter, http, server.makeTFTPServer()]
        if config.deploy.dhcp.mode != .off {
            guard let publicURL else {
                throw GoldError(
                    .invalidInput,
                    "DHCP hands iPXE the HTTP script URL: set deploy.public_url (e.g. http://10.77.0.1:8081)",
                    at: "deploy.public_url")
            }
            let dhcp = try DHCPWiring(
                config: config.deploy.dhcp, httpPublicURL: publicURL, leaseFile: config.dataDir + "/dhcp-leases.json",
                link: server.link, reporter: server.reporter, logger: logger)
            services += [dhcp.sync, dhcp.server]
            logger.info(
                "DHCP",
                metadata: [
                    "mode": "\(config.deploy.dhcp.mode.rawValue)",
                    "interface": "\(config.deploy.dhcp.interface ?? "any")",
                ])
        }
        return services
    }

    /// The `server` token a deploy or compile role uses with the director.
    static func serverToken(_ tokenFile: String, role: String) throws -> String {
        guard
            let token = try? String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines), !token.isEmpty
        else {
            throw GoldError(
                .notFound,
                "the \(role) role needs a server token; run 'gold init' or 'gold token create --role server' and write it there",
                at: tokenFile)
        }
        return token
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
