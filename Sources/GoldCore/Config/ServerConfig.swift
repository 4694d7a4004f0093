import Yams

/// `gold.yaml`: which roles this process runs and where each listens. Rejected whole on any problem.
public struct ServerConfig: Hashable, Sendable, Codable {
    public enum ServerRole: String, Hashable, Sendable, Codable, CaseIterable { case director, deploy, compile }

    public var dataDir: String
    public var roles: [ServerRole]
    public var logLevel: String
    public var director: DirectorConfig
    public var deploy: DeployConfig
    public var compile: CompileConfig

    public struct DirectorConfig: Hashable, Sendable, Codable {
        public var listen: HostPort
        /// `sqlite` (in the data directory), `sqlite:/path/to/gold.db`, or `postgres://…` (later).
        public var store: String
        /// The statically linked gold-agent that images carry (default: `agent/gold-agent` in the data directory).
        public var agentBinary: String? = nil
        /// How installed agents reach Gold (default: the deploy server's public URL).
        public var agentURL: String? = nil
        /// Days the boot servers' observations (`boot.*` events) are kept; 0 keeps them for ever. Changes made by people
        /// and workflows are never dropped.
        public var eventRetentionDays: Int = 30
    }

    public struct DeployConfig: Hashable, Sendable, Codable {
        /// The director the deploy server reports to.
        public var director: String
        public var http: HostPort
        public var tftp: HostPort
        public var tftpRoot: String?
        /// How machines reach the deploy server's HTTP side (e.g. `http://10.77.0.1:8081`).
        public var publicURL: String?
        /// The `server` token this role uses with the director (default: `server.token` in the data directory).
        public var tokenFile: String?
        /// TFTP: serve every transfer from the listening port.
        public var singlePort: Bool = false
        public var dhcp: DHCPConfig = DHCPConfig()
    }

    /// The deploy server's DHCP: off, proxyDHCP beside another server, or the full DHCP of an isolated network.
    public struct DHCPConfig: Hashable, Sendable, Codable {
        public enum Mode: String, Hashable, Sendable, Codable, CaseIterable { case off, proxy, full }
        public var mode: Mode = .off
        /// Answer only on this interface (SO_BINDTODEVICE), e.g. the provisioning bridge.
        public var interface: String?
        /// This server's address on the provisioning network: DHCP server id and TFTP next-server.
        public var serverAddress: IPv4Address?
        public var subnetMask: IPv4Address?
        public var router: IPv4Address?
        public var dns: [IPv4Address] = []
        /// Addresses for machines without a static one, `first-last`.
        public var pool: String?
        public var unknown: UnknownMachinePolicy = .ignore
        /// 67 in production; a high port for tests.
        public var port: Int = 67
        public init() {}
    }

    public struct CompileConfig: Hashable, Sendable, Codable {
        /// The director a compile server on its own host leases jobs from and uploads artifacts to.
        public var director: String
        public var workDir: String?
        /// The `server` token a compile server on its own host uses (default: `server.token` in the data directory).
        public var tokenFile: String? = nil
        /// How long a lease lasts without a heartbeat: a worker that dies loses its job after this long.
        public var leaseSeconds: Int = 120
        /// How often a building worker renews its lease; well under `leaseSeconds`.
        public var heartbeatSeconds: Int = 20
        /// How long an idle worker waits before asking for a job again.
        public var pollSeconds: Int = 5
        /// `make -j`.
        public var jobs: Int? = nil

        public init(director: String, workDir: String? = nil) {
            self.director = director
            self.workDir = workDir
        }
    }

    public static func defaults(dataDir: String = "/var/lib/gold") -> ServerConfig {
        ServerConfig(
            dataDir: dataDir, roles: ServerRole.allCases, logLevel: "info",
            director: DirectorConfig(listen: HostPort(host: "127.0.0.1", port: 8080), store: "sqlite"),
            deploy: DeployConfig(
                director: "http://127.0.0.1:8080", http: HostPort(host: "0.0.0.0", port: 8081),
                tftp: HostPort(host: "0.0.0.0", port: 69), tftpRoot: nil, publicURL: nil, tokenFile: nil),
            compile: CompileConfig(director: "http://127.0.0.1:8080", workDir: nil))
    }

    /// The SQLite file the director uses, or nil when the store is not SQLite.
    public var sqlitePath: String? {
        if director.store == "sqlite" { return dataDir + "/gold.db" }
        if director.store.hasPrefix("sqlite:") { return String(director.store.dropFirst("sqlite:".count)) }
        return nil
    }

    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// Reads `gold.yaml`; fields left out take their defaults.
    public static func parse(yaml: String, file: String = "gold.yaml") throws(FleetValidationError) -> ServerConfig {
        var r = YAMLReader(file: file)
        var config = ServerConfig.defaults()
        let root: Node?
        try YAMLBudget.standard.check(yaml, file: file)
        do { root = try Yams.compose(yaml: yaml) } catch {
            throw FleetValidationError(problems: [GoldError(.invalidInput, "not valid YAML: \(error)", at: file)])
        }
        guard let root else { return config }
        guard
            let top = r.mapping(
                root, "config", allowed: ["data_dir", "roles", "log_level", "director", "deploy", "compile"])
        else {
            throw FleetValidationError(problems: r.problems)
        }
        if let dir = r.string(top["data_dir"], "data_dir") {
            if dir.hasPrefix("/") {
                config.dataDir = dir
            } else {
                r.fail(top["data_dir"], "data_dir", "'\(dir)' must be an absolute path")
            }
        }
        if let rolesNode = top["roles"] {
            let names = r.strings(rolesNode, "roles")
            config.roles = names.compactMap { name in
                guard let role = ServerRole(rawValue: name) else {
                    r.fail(rolesNode, "roles", "unknown role '\(name)'; use director, deploy, compile")
                    return nil
                }
                return role
            }
            if names.isEmpty { r.fail(rolesNode, "roles", "list at least one role: director, deploy, compile") }
        }
        if let level = r.string(top["log_level"], "log_level") {
            if logLevels.contains(level) {
                config.logLevel = level
            } else {
                r.fail(
                    top["log_level"], "log_level",
                    "'\(level)' is not a log level; use one of: \(logLevels.joined(separator: ", "))")
            }
        }
        if let node = top["director"],
            let f = r.mapping(
                node, "director", allowed: ["listen", "store", "agent_binary", "agent_url", "event_retention_days"])
        {
            if let days = r.int(f["event_retention_days"], "director.event_retention_days", in: 0...36500) {
                config.director.eventRetentionDays = days
            }
            config.director.agentBinary = r.string(f["agent_binary"], "director.agent_binary")
            config.director.agentURL = directorURL(f["agent_url"], "director.agent_url", &r)
            if let listen = hostPort(f["listen"], "director.listen", &r) { config.director.listen = listen }
            if let store = r.string(f["store"], "director.store") {
                if store == "sqlite" || store.hasPrefix("sqlite:/") || store.hasPrefix("postgres://") {
                    config.director.store = store
                } else {
                    r.fail(
                        f["store"], "director.store",
                        "'\(store)' is not a store; use sqlite, sqlite:/path/gold.db or postgres://user@host/db")
                }
            }
        }
        let deployFields = ["director", "http", "tftp", "tftp_root", "public_url", "token_file", "single_port", "dhcp"]
        if let node = top["deploy"], let f = r.mapping(node, "deploy", allowed: deployFields) {
            if let url = directorURL(f["director"], "deploy.director", &r) { config.deploy.director = url }
            if let http = hostPort(f["http"], "deploy.http", &r) { config.deploy.http = http }
            if let tftp = hostPort(f["tftp"], "deploy.tftp", &r) { config.deploy.tftp = tftp }
            config.deploy.tftpRoot = r.string(f["tftp_root"], "deploy.tftp_root")
            config.deploy.publicURL = directorURL(f["public_url"], "deploy.public_url", &r)
            config.deploy.tokenFile = r.string(f["token_file"], "deploy.token_file")
            config.deploy.singlePort = r.bool(f["single_port"], "deploy.single_port") ?? false
            if let node = f["dhcp"] { config.deploy.dhcp = dhcp(node, &r) }
        }
        let compileFields = [
            "director", "work_dir", "token_file", "lease_seconds", "heartbeat_seconds", "poll_seconds", "jobs",
        ]
        if let node = top["compile"], let f = r.mapping(node, "compile", allowed: compileFields) {
            if let url = directorURL(f["director"], "compile.director", &r) { config.compile.director = url }
            config.compile.workDir = r.string(f["work_dir"], "compile.work_dir")
            config.compile.tokenFile = r.string(f["token_file"], "compile.token_file")
            if let value = r.int(f["lease_seconds"], "compile.lease_seconds", in: 5...3600) {
                config.compile.leaseSeconds = value
            }
            if let value = r.int(f["heartbeat_seconds"], "compile.heartbeat_seconds", in: 1...600) {
                config.compile.heartbeatSeconds = value
            }
            if let value = r.int(f["poll_seconds"], "compile.poll_seconds", in: 1...600) {
                config.compile.pollSeconds = value
            }
            config.compile.jobs = r.int(f["jobs"], "compile.jobs", in: 1...1024)
            if config.compile.heartbeatSeconds * 2 > config.compile.leaseSeconds {
                r.fail(
                    f["heartbeat_seconds"] ?? node, "compile.heartbeat_seconds",
                    "must be at most half of compile.lease_seconds (\(config.compile.leaseSeconds)), or a slow heartbeat loses the lease"
                )
            }
        }
        guard r.problems.isEmpty else { throw FleetValidationError(problems: r.problems) }
        return config
    }

    private static func dhcp(_ node: Node, _ r: inout YAMLReader) -> DHCPConfig {
        var dhcp = DHCPConfig()
        let allowed = [
            "mode", "interface", "server_address", "subnet_mask", "router", "dns", "pool", "unknown", "port",
        ]
        guard let f = r.mapping(node, "deploy.dhcp", allowed: allowed) else { return dhcp }
        func address(_ key: String) -> IPv4Address? {
            guard let text = r.string(f[key], "deploy.dhcp.\(key)") else { return nil }
            guard let value = IPv4Address(text) else {
                r.fail(f[key], "deploy.dhcp.\(key)", "'\(text)' is not an IPv4 address")
                return nil
            }
            return value
        }
        dhcp.mode = f["mode"].flatMap { r.enumValue($0, "deploy.dhcp.mode", as: DHCPConfig.Mode.self) } ?? .off
        dhcp.interface = r.string(f["interface"], "deploy.dhcp.interface")
        dhcp.serverAddress = address("server_address")
        dhcp.subnetMask = address("subnet_mask")
        dhcp.router = address("router")
        dhcp.dns = r.strings(f["dns"], "deploy.dhcp.dns").compactMap { text in
            guard let value = IPv4Address(text) else {
                r.fail(f["dns"], "deploy.dhcp.dns", "'\(text)' is not an IPv4 address")
                return nil
            }
            return value
        }
        if let pool = r.string(f["pool"], "deploy.dhcp.pool") {
            let ends = pool.split(separator: "-").map { IPv4Address(String($0)) }
            if ends.count == 2, let first = ends[0], let last = ends[1], first.value <= last.value {
                dhcp.pool = pool
            } else {
                r.fail(
                    f["pool"], "deploy.dhcp.pool", "'\(pool)' is not a range FIRST-LAST such as 10.77.0.100-10.77.0.199"
                )
            }
        }
        dhcp.unknown =
            f["unknown"].flatMap { r.enumValue($0, "deploy.dhcp.unknown", as: UnknownMachinePolicy.self) } ?? .ignore
        if let text = r.string(f["port"], "deploy.dhcp.port") {
            if let port = Int(text), (1...65535).contains(port) {
                dhcp.port = port
            } else {
                r.fail(f["port"], "deploy.dhcp.port", "'\(text)' is not a port")
            }
        }
        if dhcp.mode != .off && dhcp.serverAddress == nil {
            r.fail(node, "deploy.dhcp.server_address", "DHCP needs this server's address on the provisioning network")
        }
        if dhcp.mode == .full && dhcp.subnetMask == nil {
            r.fail(node, "deploy.dhcp.subnet_mask", "full DHCP needs the provisioning network's subnet mask")
        }
        return dhcp
    }

    private static func hostPort(_ node: Node?, _ path: String, _ r: inout YAMLReader) -> HostPort? {
        guard let text = r.string(node, path) else { return nil }
        guard let value = HostPort(text) else {
            r.fail(node, path, "'\(text)' is not HOST:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)")
            return nil
        }
        return value
    }

    private static func directorURL(_ node: Node?, _ path: String, _ r: inout YAMLReader) -> String? {
        guard let text = r.string(node, path) else { return nil }
        guard text.hasPrefix("http://") || text.hasPrefix("https://") else {
            r.fail(node, path, "'\(text)' must be an http URL, such as http://gold:8080")
            return nil
        }
        return text
    }
}

/// `host:port`, with IPv6 hosts in brackets.
public struct HostPort: Hashable, Sendable, Codable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init?(_ text: String) {
        var hostPart: Substring
        var portPart: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portPart = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard !hostPart.isEmpty, let port = Int(portPart), (0...65535).contains(port) else { return nil }
        self.host = String(hostPart)
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
