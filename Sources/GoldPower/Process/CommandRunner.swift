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

/// Runs programs with `posix_spawn`, output captured in temporary files, killed at the deadline.
///
/// Not Foundation's `Process`: on Linux it learns of the child's exit through a descriptor the child inherits, so a
/// program that daemonises (QEMU `-daemonize`, whose daemon keeps that descriptor) never looks finished. Here the
/// runner waits for its direct child only (`waitpid`), and output goes to files, which a daemon holding them cannot
/// block. stdin is /dev/null; the child starts with an empty signal mask and default signal handlers.
public struct ProcessRunner: CommandRunner {
    public init() {}

    public func run(
        _ program: String, _ arguments: [String], environment: [String: String], timeout: Duration
    ) async throws -> CommandResult {
        guard let path = Self.locate(program) else { throw CommandNotFound(program: program) }
        let scratch = NSTemporaryDirectory() + "gold-run-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let outPath = scratch + ".out"
        let errPath = scratch + ".err"
        defer {
            unlink(outPath)
            unlink(errPath)
        }
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        let pid = try Self.spawn(path, [program] + arguments, env: env, stdout: outPath, stderr: errPath)

        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var status: Int32 = 0
        var timedOut = false
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { break }
            if clock.now >= deadline && !timedOut {
                timedOut = true
                kill(pid, SIGTERM)
                try? await Task.sleep(for: .seconds(2))
                if waitpid(pid, &status, WNOHANG) == pid { break }
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                break
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        let exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let out = (FileManager.default.contents(atPath: outPath)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let err = (FileManager.default.contents(atPath: errPath)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return CommandResult(exitCode: exitCode, stdout: out, stderr: err, timedOut: timedOut)
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

    private static func spawn(_ path: String, _ argv: [String], env: [String: String], stdout: String, stderr: String)
        throws -> pid_t
    {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in cArgs { free(p) }
            for p in cEnv { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, cArgs, cEnv)
        guard rc == 0 else { throw CommandNotFound(program: "\(path) (posix_spawn: \(String(cString: strerror(rc))))") }
        return pid
    }
}
