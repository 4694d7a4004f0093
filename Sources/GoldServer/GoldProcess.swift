import Foundation
import GoldCompile
import GoldCore
import GoldDeploy
import GoldDirector
import GoldRunner
import GoldWorkflow
import GoldTFTPServer
import Hummingbird
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
    public static func openStore(_ config: ServerConfig) throws -> any GoldStore & WorkflowStore {
        if let path = config.sqlitePath {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            return try SQLiteStore(path: path)
        }
        throw GoldError(.unavailable, "the PostgreSQL store is not built yet; use 'store: sqlite'", at: "director.store")
    }

    /// Runs every role until SIGTERM or SIGINT, then drains them in reverse order.
    public func run(onDirectorRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var services: [any Service] = []
        // Director and compile role in one process share the queue; alone, the director has no compile role to ask.
        let compile = config.roles.contains(.compile) ? try CompileHub(config: config) : nil
        if let compile {
            services.append(CompileService(worker: CompileWorker(name: "compile@\(ProcessInfo.processInfo.hostName)", queue: compile.queue,
                store: compile.artifacts, workDir: compile.workDir, logger: logger)))
        }
        if config.roles.contains(.director) {
            let store = try Self.openStore(config)
            let runner = WorkflowRunner(store: store, actions: LiveMachineActions(config: config, store: store, compile: compile, logger: logger), logger: logger)
            services.append(runner)
            let director = Director(store: store, registry: Metrics.registry, logger: logger, workflows: runner,
                backups: BinaryBackups(root: config.dataDir + "/backups"), imageStore: config.dataDir + "/images",
                compileQueue: compile?.queue)
            services.append(director.makeApplication(host: config.director.listen.host, port: config.director.listen.port) { port in
                logger.info("director listening", metadata: ["address": "\(config.director.listen.host):\(port)"])
                await onDirectorRunning(port)
            })
        }
        if config.roles.contains(.deploy) {
            services += try deployServices()
        }
        if config.roles.contains(.compile) && !config.roles.contains(.director) {
            logger.warning("a compile role without the director in its process has no queue to take jobs from yet (the queue over HTTP is not built); run --roles director,compile")
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

    /// The build/deploy role: HTTP boot, TFTP, and the reporter that tells the director who fetched what.
    func deployServices() throws -> [any Service] {
        let tokenFile = config.deploy.tokenFile ?? config.dataDir + "/server.token"
        guard let token = try? String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
            throw GoldError(.notFound, "the deploy role needs a server token; run 'gold init' or 'gold token create --role server' and write it there", at: tokenFile)
        }
        let tftpRoot = config.deploy.tftpRoot ?? config.dataDir + "/tftp"
        let filesDir = config.dataDir + "/boot/files"
        try FileManager.default.createDirectory(atPath: filesDir + "/netboot", withIntermediateDirectories: true)
        try BootFiles.install(into: tftpRoot)
        var tftp = TFTPServerConfiguration()
        tftp.host = config.deploy.tftp.host
        tftp.port = config.deploy.tftp.port
        tftp.singlePort = config.deploy.singlePort
        let publicURL = config.deploy.publicURL ?? (["0.0.0.0", "::"].contains(config.deploy.http.host) ? nil : "http://\(config.deploy.http)")
        let server = DeployServer(
            configuration: .init(httpHost: config.deploy.http.host, httpPort: config.deploy.http.port, publicURL: publicURL,
                tftp: tftp, filesDir: filesDir, tftpRoot: tftpRoot, imageStore: config.dataDir + "/images",
                artifactStore: config.dataDir + "/artifacts"),
            link: DirectorLink(url: config.deploy.director, token: token), logger: logger)
        let http = Application(
            router: server.makeRouter(),
            configuration: .init(address: .hostname(config.deploy.http.host, port: config.deploy.http.port), serverName: "gold-deploy"),
            logger: logger)
        logger.info("deploy role", metadata: ["http": "\(config.deploy.http)", "tftp": "\(config.deploy.tftp)", "tftp_root": "\(tftpRoot)"])
        var services: [any Service] = [server.reporter, http, server.makeTFTPServer()]
        if config.deploy.dhcp.mode != .off {
            guard let publicURL else {
                throw GoldError(.invalidInput, "DHCP hands iPXE the HTTP script URL: set deploy.public_url (e.g. http://10.77.0.1:8081)", at: "deploy.public_url")
            }
            let dhcp = try DHCPWiring(config: config.deploy.dhcp, httpPublicURL: publicURL, leaseFile: config.dataDir + "/dhcp-leases.json",
                link: server.link, registry: server.registry, reporter: server.reporter, logger: logger)
            services += [dhcp.sync, dhcp.server]
            logger.info("DHCP", metadata: ["mode": "\(config.deploy.dhcp.mode.rawValue)", "interface": "\(config.deploy.dhcp.interface ?? "any")"])
        }
        return services
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
