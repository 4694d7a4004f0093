import ArgumentParser
import Foundation
import GoldCore
import GoldTFTPServer
import Logging

extension Gold {
    struct TFTPCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tftp", abstract: "Gold's TFTP server on its own.", subcommands: [Serve.self])

        struct Serve: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Serve a directory over TFTP, read-only (RFC 1350, 2347-2349, 7440 windowsize).")
            @Option(help: ArgumentHelp("The directory to serve; nothing outside it is ever read.", valueName: "dir"))
            var root: String
            @Option(help: ArgumentHelp("HOST:PORT, [V6]:PORT or PORT.", valueName: "address"))
            var listen = "0.0.0.0:69"
            @Flag(help: "Serve every transfer from the listening port (for NAT and firewalls).")
            var singlePort = false
            @Option(help: "At most this many transfers at once.") var maxTransfers = 512
            @Option(help: "At most this many transfers per client address.") var maxPerClient = 16
            @Option(help: "The largest blksize granted (RFC 2348: 8-65464).") var maxBlockSize = 1468
            @Option(help: "MiB of file contents kept in memory and shared by transfers (0: off).") var fileCacheMib =
                256
            @Option(help: "Lock-step transfers on a thread of their own while fewer than this many do (0: none).")
            var lockStepThreads = 2
            @Option(help: "Microseconds such a thread polls for each ACK before it sleeps (0: never).")
            var lockStepSpinUs = 100
            @Flag(help: "Print a line per transfer (client, file, bytes, outcome, duration, options).")
            var printTransfers = false

            func validate() throws {
                guard TFTPServer.parseListen(listen) != nil else {
                    throw ValidationError("--listen '\(listen)' is not HOST:PORT")
                }
                guard (8...65464).contains(maxBlockSize) else {
                    throw ValidationError("--max-block-size must be 8-65464 (RFC 2348)")
                }
                guard maxTransfers > 0, maxPerClient > 0 else { throw ValidationError("limits must be at least 1") }
                guard (0...(1 << 20)).contains(fileCacheMib) else {
                    throw ValidationError("--file-cache-mib must be 0-1048576")
                }
                guard (0...64).contains(lockStepThreads) else {
                    throw ValidationError("--lock-step-threads must be 0-64")
                }
                guard (0...10_000).contains(lockStepSpinUs) else {
                    throw ValidationError("--lock-step-spin-us must be 0-10000")
                }
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue
                else {
                    throw ValidationError("--root '\(root)' is not a directory")
                }
            }

            func run() async throws {
                guard let (host, port) = TFTPServer.parseListen(listen) else { return }
                var configuration = TFTPServerConfiguration()
                configuration.host = host
                configuration.port = port
                configuration.singlePort = singlePort
                configuration.maxTransfers = maxTransfers
                configuration.maxPerClient = maxPerClient
                configuration.maxBlockSize = maxBlockSize
                configuration.fileCacheBytes = fileCacheMib << 20
                configuration.lockStepThreads = lockStepThreads
                configuration.lockStepSpin = .microseconds(lockStepSpinUs)
                LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
                let printTransfers = self.printTransfers
                try await TFTPServer.serve(
                    root: root, configuration: configuration,
                    observer: { record in
                        if printTransfers { print(record.description) }
                    })
            }
        }
    }
}
