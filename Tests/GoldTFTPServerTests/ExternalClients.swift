import Foundation
import Testing

/// Runs the real TFTP clients (tftp-hpa, atftp, curl) as child processes.
enum ExternalClients {
    struct Missing: Error, CustomStringConvertible {
        var tool: String
        var package: String
        var description: String { "'\(tool)' is not installed: apt-get install -y \(package)" }
    }

    struct Result: Sendable {
        var status: Int32
        var output: String
    }

    /// The absolute path of `tool`, or a failure naming its Debian package (never a skip).
    static func require(_ tool: String, package: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
        for directory in directories {
            let candidate = directory + "/" + tool
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw Missing(tool: tool, package: package)
    }

    /// Runs a process without blocking a cooperative thread (the server's file source runs on that pool).
    static func run(_ executable: String, _ arguments: [String], directory: URL? = nil) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        return try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { process in
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                continuation.resume(
                    returning: Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self)))
            }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
    }

    /// tftp-hpa: lock-step, 512-byte blocks, no options.
    static func tftpHPA(host: String, port: Int, file: String, to output: URL, extra: [String] = []) async throws
        -> Result
    {
        let tftp = try require("tftp", package: "tftp-hpa")
        return try await run(tftp, extra + [host, String(port), "-m", "binary", "-c", "get", file, output.path])
    }

    /// atftp with `--option "name value"` pairs.
    static func atftp(host: String, port: Int, file: String, to output: URL, options: [String]) async throws -> Result {
        let atftp = try require("atftp", package: "atftp")
        let optionArguments = options.flatMap { ["--option", $0] }
        return try await run(atftp, optionArguments + ["-g", "-r", file, "-l", output.path, host, String(port)])
    }

    /// curl's TFTP client (asks for tsize and the given blksize).
    static func curl(url: String, to output: URL, blockSize: Int) async throws -> Result {
        let curl = try require("curl", package: "curl")
        return try await run(curl, ["-sS", "--tftp-blksize", String(blockSize), "-o", output.path, url])
    }
}
