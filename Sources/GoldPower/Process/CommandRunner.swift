import Foundation

/// What a finished subprocess left behind.
public struct CommandResult: Sendable, Equatable {
    public var exitCode: Int32
    public var stdout: String
    public var stderr: String
    /// True when the runner killed the process at its deadline.
    public var timedOut: Bool

    public init(exitCode: Int32, stdout: String, stderr: String, timedOut: Bool = false) {
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
        self.timedOut = timedOut
    }

    /// The command line's outcome in one line, for error messages.
    public var summary: String {
        let err = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        let out = stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let status = timedOut ? "timed out" : "exit \(exitCode)"
        return [status, err.isEmpty ? out : err].filter { !$0.isEmpty }.joined(separator: ": ")
    }
}

/// Runs programs; the live implementation is ``ProcessRunner``, tests substitute a scripted one.
public protocol CommandRunner: Sendable {
    /// Runs `program` (a name looked up in PATH, or a path) with `arguments`. Throws only when the program
    /// cannot be started (``CommandNotFound``); a non-zero exit is a result, not an error.
    func run(
        _ program: String, _ arguments: [String], environment: [String: String], timeout: Duration
    ) async throws -> CommandResult
}

extension CommandRunner {
    public func run(_ program: String, _ arguments: [String], timeout: Duration = .seconds(30)) async throws
        -> CommandResult
    {
        try await run(program, arguments, environment: [:], timeout: timeout)
    }
}

/// A program that is not installed.
public struct CommandNotFound: Error, Sendable, CustomStringConvertible {
    public let program: String
    public var description: String { "\(program): not found in PATH" }
}

/// Runs programs as Foundation `Process`es, collecting stdout and stderr, killing them at the deadline.
///
/// stdin is /dev/null. A program that leaves a daemon holding its stdout open (QEMU's `-daemonize` does not)
/// would keep `run` waiting until the deadline.
public struct ProcessRunner: CommandRunner {
    public init() {}

    public func run(
        _ program: String, _ arguments: [String], environment: [String: String], timeout: Duration
    ) async throws -> CommandResult {
        guard let path = Self.locate(program) else { throw CommandNotFound(program: program) }
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    continuation.resume(
                        returning: try Self.runBlocking(path, arguments, environment: environment, timeout: timeout))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// The absolute path of `program`, searched in PATH (plus the sbin directories root's tools live in).
    public static func locate(_ program: String) -> String? {
        if program.contains("/") { return FileManager.default.isExecutableFile(atPath: program) ? program : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/local/sbin"]
        for dir in dirs where FileManager.default.isExecutableFile(atPath: "\(dir)/\(program)") {
            return "\(dir)/\(program)"
        }
        return nil
    }

    private static func runBlocking(
        _ path: String, _ arguments: [String], environment: [String: String], timeout: Duration
    ) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()

        let collected = Collected()
        let readers = DispatchGroup()
        for (pipe, isOut) in [(out, true), (err, false)] {
            DispatchQueue.global().async(group: readers) {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                collected.set(String(decoding: data, as: UTF8.self), stdout: isOut)
            }
        }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        var timedOut = false
        if exited.wait(timeout: .now() + seconds) == .timedOut {
            timedOut = true
            process.terminate()
            if exited.wait(timeout: .now() + 2) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                exited.wait()
            }
        }
        _ = readers.wait(timeout: .now() + 5)
        let (stdout, stderr) = collected.get()
        return CommandResult(
            exitCode: process.terminationStatus, stdout: stdout, stderr: stderr, timedOut: timedOut)
    }
}

/// Output gathered by two reader threads.
private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var out = ""
    private var err = ""

    func set(_ text: String, stdout: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if stdout { out = text } else { err = text }
    }

    func get() -> (String, String) {
        lock.lock()
        defer { lock.unlock() }
        return (out, err)
    }
}
