#if canImport(Glibc)
    import Glibc
#endif
import Foundation

/// What a finished program did.
public struct SpawnResult: Sendable {
    public var exitCode: Int32
    /// Standard output and standard error, interleaved as written.
    public var output: String
    public var timedOut: Bool
}

/// Runs programs with an argument vector (no shell) in their own process group, with every signal unblocked and at
/// its default: a parent that blocks signals (a test runner, a service manager) must not leave a child deaf to
/// SIGTERM or SIGALRM. A deadline kills the whole group with SIGKILL.
public enum Spawn {
    public static func run(_ program: String, _ arguments: [String], timeout: Duration, environment: [String: String]? = nil) async throws -> SpawnResult {
        let path = program.hasPrefix("/") ? program : try locate(program)
        var pipe: [Int32] = [0, 0]
        guard Glibc.pipe(&pipe) == 0 else { throw SpawnError("cannot create a pipe: errno \(errno)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 2)
        posix_spawn_file_actions_addclose(&actions, pipe[0])
        posix_spawn_file_actions_addclose(&actions, pipe[1])

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { env.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, path, &actions, &attributes, argv, env)
        close(pipe[1])
        guard status == 0 else {
            close(pipe[0])
            throw SpawnError("cannot start \(path): \(String(cString: strerror(status)))")
        }

        let readFD = pipe[0]
        // The reader blocks in read(2) until the program and everything it started close the pipe (a kernel
        // build: many minutes): a thread of its own, not one of the cooperative pool's few.
        async let output = Blocking.run { () -> Data in
            var data = Data()
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = read(readFD, &buffer, buffer.count)
                if count <= 0 { break }
                data.append(contentsOf: buffer[0..<count])
            }
            close(readFD)
            return data
        }
        let deadline = ContinuousClock.now + timeout
        var timedOut = false
        var waitStatus: Int32 = 0
        while true {
            let done = waitpid(pid, &waitStatus, WNOHANG)
            if done == pid { break }
            if done < 0 && errno != EINTR { break }
            if ContinuousClock.now > deadline && !timedOut {
                timedOut = true
                kill(-pid, SIGKILL)
            }
            do {
                try await Task.sleep(for: .milliseconds(20))
            } catch {
                // Cancelled: the sleep no longer waits, so the loop would spin. The program goes now; its exit is
                // awaited on a thread of its own.
                kill(-pid, SIGKILL)
                let child = pid
                waitStatus = await Blocking.run { () -> Int32 in
                    var status: Int32 = 0
                    while waitpid(child, &status, 0) < 0 && errno == EINTR {}
                    return status
                }
                break
            }
        }
        // Children the program left behind in its group go too.
        kill(-pid, SIGKILL)
        let data = await output
        let exit: Int32 = (waitStatus & 0x7f) == 0 ? (waitStatus >> 8) & 0xff : 128 + (waitStatus & 0x7f)
        return SpawnResult(exitCode: exit, output: String(decoding: data, as: UTF8.self), timedOut: timedOut)
    }

    /// The program's path from the usual system directories.
    public static func locate(_ name: String) throws -> String {
        for dir in ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
        throw SpawnError("\(name) is not installed on this machine")
    }
}

public struct SpawnError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension Spawn {
    /// Starts a long-running program in a new session, detached from the caller, output appended to `log`.
    /// Returns its pid; the caller records it to stop it later.
    public static func daemon(_ program: String, _ arguments: [String], log: String, environment: [String: String]? = nil) throws -> pid_t {
        let path = program.hasPrefix("/") ? program : try locate(program)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        // POSIX_SPAWN_SETSID (glibc 2.26): a session of its own, so the caller's terminal and exit do not touch it.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | 0x80))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { env.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, path, &actions, &attributes, argv, env)
        guard status == 0 else { throw SpawnError("cannot start \(path): \(String(cString: strerror(status)))") }
        return pid
    }
}
