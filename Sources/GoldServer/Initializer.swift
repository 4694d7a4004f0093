import Foundation
import GoldCore

/// `gold init`: the data directory, its configuration, the store, and the first admin token.
public enum Initializer {
    public struct Result: Sendable, Codable {
        public var dataDir: String
        public var configFile: String
        public var tokenFile: String
        /// False when the data directory already had an admin token: nothing was changed.
        public var created: Bool
    }

    public static func run(dataDir: String) async throws -> Result {
        let fm = FileManager.default
        let configFile = dataDir + "/gold.yaml"
        let tokenFile = dataDir + "/admin.token"
        if fm.fileExists(atPath: tokenFile) {
            return Result(dataDir: dataDir, configFile: configFile, tokenFile: tokenFile, created: false)
        }
        try fm.createDirectory(
            atPath: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let config: ServerConfig
        if fm.fileExists(atPath: configFile) {
            config = try ServerConfig.parse(
                yaml: try String(contentsOfFile: configFile, encoding: .utf8), file: configFile)
        } else {
            config = ServerConfig.defaults(dataDir: dataDir)
            try defaultConfigText(dataDir: dataDir).write(toFile: configFile, atomically: true, encoding: .utf8)
        }
        let store = try GoldProcess.openStore(config)
        let secret = TokenSecret.generate()
        let record = TokenRecord(
            id: TokenSecret.newID(), hash: secret.hash, role: .admin, machine: nil, label: "admin (gold init)",
            createdAt: Date())
        // Write the secret first, readable by its owner only, then record it: a crash between leaves a file, never a
        // stored token nobody holds.
        let temporary = tokenFile + ".tmp"
        guard
            fm.createFile(
                atPath: temporary, contents: Data((secret.value + "\n").utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw GoldError(.io, "cannot write the admin token", at: temporary)
        }
        // The local deploy and compile roles talk to the director with a `server` token of their own.
        let serverSecret = TokenSecret.generate()
        let serverFile = dataDir + "/server.token"
        guard
            fm.createFile(
                atPath: serverFile, contents: Data((serverSecret.value + "\n").utf8),
                attributes: [.posixPermissions: 0o600])
        else {
            throw GoldError(.io, "cannot write the server token", at: serverFile)
        }
        try await store.insertToken(
            TokenRecord(
                id: TokenSecret.newID(), hash: serverSecret.hash, role: .server, machine: nil,
                label: "local servers (gold init)", createdAt: Date()), actor: "gold init")
        try await store.insertToken(record, actor: "gold init")
        try fm.moveItem(atPath: temporary, toPath: tokenFile)
        return Result(dataDir: dataDir, configFile: configFile, tokenFile: tokenFile, created: true)
    }

    public static func defaultConfigText(dataDir: String) -> String {
        """
        # Gold server configuration. Every field is optional; these are the defaults.
        data_dir: \(dataDir)
        # The roles this process runs: director, deploy, compile (all three in one process by default).
        roles: [director, deploy, compile]
        log_level: info
        director:
          listen: 127.0.0.1:8080
          # sqlite (gold.db in data_dir), sqlite:/path/gold.db, or postgres://user@host/db
          store: sqlite
        deploy:
          director: http://127.0.0.1:8080
          http: 0.0.0.0:8081
          tftp: 0.0.0.0:69
          # How machines reach this server over HTTP; needed for pxelinux and GRUB (iPXE uses its request's Host).
          # public_url: http://10.77.0.1:8081
          # token_file: \(dataDir)/server.token
        compile:
          director: http://127.0.0.1:8080

        """
    }
}

/// `gold token create --local`: a token written into the director's store directly, by whoever can open it (root on
/// the director's host), for when no admin token is left to create one over the API.
public enum LocalTokens {
    public static func create(config file: String, role: Role, machine: String?, label: String?) async throws
        -> (id: String, token: String, label: String)
    {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw GoldError(
                .notFound,
                "cannot read the director's configuration (run as root on the director's host, or pass --config)",
                at: file)
        }
        let config = try ServerConfig.parse(yaml: text, file: file)
        guard let path = config.sqlitePath, FileManager.default.fileExists(atPath: path) else {
            throw GoldError(
                .notFound, "no store to write the token into; 'gold init' makes one", at: config.sqlitePath ?? file)
        }
        let store = try GoldProcess.openStore(config)
        let secret = TokenSecret.generate()
        let record = TokenRecord(
            id: TokenSecret.newID(), hash: secret.hash, role: role, machine: machine,
            label: label ?? "\(role.rawValue) (gold token create --local)", createdAt: Date())
        try await store.insertToken(record, actor: "local:\(NSUserName())")
        return (record.id, secret.value, record.label)
    }
}
