import ArgumentParser
import Foundation
import GoldCore
import GoldDoctor
import GoldServer
import Logging

extension Gold {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run Gold's servers: the director, build/deploy and compile roles, together or one per process.")

        @Option(help: ArgumentHelp("The configuration file.", valueName: "path"))
        var config = "/var/lib/gold/gold.yaml"

        @Option(help: ArgumentHelp("Roles to run, overriding the file: director,deploy,compile.", valueName: "roles"))
        var roles: String?

        @Option(
            help: ArgumentHelp("Listen address of the director, overriding the file (HOST:PORT).", valueName: "address")
        )
        var listen: String?

        @Flag(help: "Start even when `gold doctor` finds something the roles require missing (not recommended).")
        var skipDoctor = false

        func validate() throws {
            if let roles {
                for role in roles.split(separator: ",") where ServerConfig.ServerRole(rawValue: String(role)) == nil {
                    throw ValidationError("unknown role '\(role)' in --roles; use director, deploy, compile")
                }
            }
            if let listen, HostPort(listen) == nil { throw ValidationError("--listen '\(listen)' is not HOST:PORT") }
        }

        func run() async throws {
            guard let text = try? String(contentsOfFile: config, encoding: .utf8) else {
                throw GoldError(
                    .notFound, "cannot read the configuration; run 'gold init' first or pass --config", at: config)
            }
            var settings = try ServerConfig.parse(yaml: text, file: config)
            if let roles {
                settings.roles = roles.split(separator: ",").compactMap {
                    ServerConfig.ServerRole(rawValue: String($0))
                }
            }
            if let listen, let address = HostPort(listen) { settings.director.listen = address }
            // What the roles will call must be on this host: one message naming every missing package, before anything starts.
            let roles = Set(settings.roles.compactMap { DoctorRole(rawValue: $0.rawValue) })
            if let refusal = GoldDoctor.Doctor.examine(roles, probe: LocalHostProbe()).refusal {
                if !skipDoctor { throw GoldError(.unavailable, refusal + "; or start anyway with --skip-doctor") }
                FileHandle.standardError.write(Data("gold serve: warning: \(refusal)\n".utf8))
            }
            let logLevel = Logger.Level(rawValue: settings.logLevel) ?? .info
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = logLevel
                return handler
            }
            try await GoldProcess(config: settings, logger: Logger(label: "gold")).run()
        }
    }
}
