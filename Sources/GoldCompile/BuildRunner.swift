import Foundation
import GoldSpawn

#if canImport(Glibc)
    import Glibc
#endif

/// One program to run: an argument vector (no shell unless the vector names one), where, and with what.
public struct BuildCommand: Hashable, Sendable {
    public var argv: [String]
    public var directory: String
    public var environment: [String: String]
    /// Output goes here (appended) when set, so a worker can stream it; otherwise it is returned.
    public var logFile: String?
    public var timeout: Duration

    public init(
        _ argv: [String], in directory: String, environment: [String: String] = [:], logFile: String? = nil,
        timeout: Duration = .seconds(600)
    ) {
        self.argv = argv
        self.directory = directory
        self.environment = environment
        self.logFile = logFile
        self.timeout = timeout
    }
}

/// What a finished command did.
public struct BuildCommandResult: Hashable, Sendable {
    public var exitCode: Int32
    /// Standard output and error when the command had no log file.
    public var output: String
    public var timedOut: Bool

    public init(exitCode: Int32, output: String = "", timedOut: Bool = false) {
        self.exitCode = exitCode
        self.output = output
        self.timedOut = timedOut
    }
}

/// Runs build steps; tests substitute a fake. Cancelling the calling task must stop the command.
public protocol BuildRunner: Sendable {
    func run(_ command: BuildCommand) async throws -> BuildCommandResult
    /// The absolute path of `tool` on this server, or nil.
    func which(_ tool: String) -> String?
}

/// Runs commands with GoldSpawn (own process group, signals reset, SIGKILL at the deadline); a cancelled task
/// kills the command's whole process group.
public struct SpawnBuildRunner: BuildRunner {
    public init() {}

    public func which(_ tool: String) -> String? { try? Spawn.locate(tool) }

    public func run(_ command: BuildCommand) async throws -> BuildCommandResult {
        guard let program = command.argv.first else { throw CompileError(.badInput, "empty command") }
        // GoldSpawn has no working directory or output file: a fixed sh wrapper (arguments, not interpolation)
        // records its pid (the process group leader), changes directory, and execs the program.
        let pidFile = NSTemporaryDirectory() + "gold-compile-\(UUID().uuidString).pid"
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        // Cancellation and start can race: the wrapper writes its pid, then looks for the cancel mark; onCancel
        // writes the mark, then reads the pid. Either the wrapper sees the mark or onCancel sees the pid.
        let prologue = #"echo $$ >"$0"; [ -e "$0.cancel" ] && exit 130; cd "$1" || exit 125; "#
        let script =
            command.logFile == nil
            ? prologue + #"shift 2; exec "$@""#
            : prologue + #"log=$2; shift 3; exec "$@" >>"$log" 2>&1"#
        var arguments = ["-c", script, pidFile, command.directory]
        if let log = command.logFile { arguments += [log, "-"] } else { arguments += ["-"] }
        arguments += [program] + command.argv.dropFirst()
        var environment = ProcessInfo.processInfo.environment
        environment.merge(command.environment) { $1 }
        defer { try? FileManager.default.removeItem(atPath: pidFile + ".cancel") }
        let result = try await withTaskCancellationHandler {
            try await Spawn.run("/bin/sh", arguments, timeout: command.timeout, environment: environment)
        } onCancel: {
            _ = FileManager.default.createFile(atPath: pidFile + ".cancel", contents: nil)
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1
            {
                kill(-pid, SIGKILL)
            }
        }
        if Task.isCancelled { throw CancellationError() }
        return BuildCommandResult(exitCode: result.exitCode, output: result.output, timedOut: result.timedOut)
    }
}
