import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs programs on this machine with `posix_spawn`: the one way Gold runs a program.
///
/// - The program gets a process group of its own, an empty signal mask and every signal at its default: a parent that
///   blocks signals (a test runner, a service manager) must not leave a child deaf to SIGTERM.
/// - Output goes to unlinked temporary files, not pipes: no reader thread, and a program that leaves a daemon behind
///   holding its output (`qemu -daemonize`) cannot make the run look unfinished. Only the direct child is awaited;
///   whatever it left in its process group is killed when it exits.
/// - The wait runs on a thread of its own (``Blocking``), never the cooperative pool: a kernel build takes minutes.
/// - At the deadline the group gets SIGTERM, then SIGKILL after 2 s; a cancelled caller's group gets SIGKILL.
/// - Each collected stream keeps at most its last ``outputLimit`` bytes.
public struct SystemRunner: ProgramRunner {
    /// The most of each collected stream kept, its end: a runaway program cannot fill memory.
    public var outputLimit: Int

    public init(outputLimit: Int = 8 << 20) { self.outputLimit = outputLimit }

    public func locate(_ program: String) -> String? { Self.locate(program) }

    /// The absolute path of `program`: as given when it contains a slash, else from `path` (default: this process's
    /// PATH), then the system directories
    /// (root's tools live in sbin, which a service's PATH may lack).
    public static func locate(_ program: String, path: String? = nil) -> String? {
        if program.contains("/") { return FileManager.default.isExecutableFile(atPath: program) ? program : nil }
        let path = path ?? ProcessInfo.processInfo.environment["PATH"] ?? ""
        var seen = Set<String>()
        let system = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        for dir in path.split(separator: ":").map(String.init) + system where !dir.isEmpty && seen.insert(dir).inserted
        {
            if FileManager.default.isExecutableFile(atPath: "\(dir)/\(program)") { return "\(dir)/\(program)" }
        }
        return nil
    }

    public func run(_ command: Invocation) async throws -> InvocationResult {
        let child = try Child.start(command)
        let stop = StopFlag()
        let limit = outputLimit
        let status = await withTaskCancellationHandler {
            await Blocking.run { child.wait(timeout: command.timeout, stop: stop) }
        } onCancel: {
            stop.set()
        }
        return child.collect(status: status, limit: limit)
    }
}

/// Set by a cancelled caller; read by the thread that waits for the child.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    func set() { lock.withLock { stopped = true } }
    var isSet: Bool { lock.withLock { stopped } }
}

/// A started program and the files its output goes to.
struct Child: @unchecked Sendable {
    let pid: pid_t
    let program: String
    /// Descriptors to read back after the exit: stdout (or both) and stderr; -1 when not collected.
    let stdoutFD: Int32
    let stderrFD: Int32

    struct Wait {
        var status: Int32
        var timedOut: Bool
    }

    static func start(_ command: Invocation) throws -> Child {
        let environment: [String: String]
        switch command.environment {
        case .inherited(let adding): environment = ProcessInfo.processInfo.environment.merging(adding) { $1 }
        case .only(let only): environment = only
        }
        // Found as the program's own PATH would find it (a build's PATH puts ccache's `gcc` first).
        guard let path = SystemRunner.locate(command.program, path: environment["PATH"]) else {
            throw SpawnError.notFound(command.program)
        }
        var opened: [Int32] = []
        var handedOver = false
        defer { if !handedOver { for fd in opened { close(fd) } } }
        func keep(_ fd: Int32, _ what: String) throws -> Int32 {
            guard fd >= 0 else {
                throw SpawnError(
                    "cannot start \(command.program): \(what): \(String(cString: strerror(errno)))",
                    program: command.program)
            }
            // Above 2, so that handing it to the child as 0, 1 or 2 is always a real dup2.
            let high = fcntl(fd, F_DUPFD_CLOEXEC, 3)
            close(fd)
            guard high >= 0 else {
                throw SpawnError("cannot start \(command.program): \(what)", program: command.program)
            }
            opened.append(high)
            return high
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }

        switch command.input {
        case .none:
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case .bytes(let data):
            let fd = try keep(scratchFile(), "a file for its input")
            try writeAll(fd, data, program: command.program)
            lseek(fd, 0, SEEK_SET)
            posix_spawn_file_actions_adddup2(&actions, fd, 0)
        case .file(let file):
            let fd = try keep(open(file, O_RDONLY | O_CLOEXEC), "cannot read \(file)")
            posix_spawn_file_actions_adddup2(&actions, fd, 0)
        }

        var stdoutFD: Int32 = -1
        var stderrFD: Int32 = -1
        switch command.output {
        case .separate:
            stdoutFD = try keep(scratchFile(), "a file for its output")
            stderrFD = try keep(scratchFile(), "a file for its errors")
            posix_spawn_file_actions_adddup2(&actions, stdoutFD, 1)
            posix_spawn_file_actions_adddup2(&actions, stderrFD, 2)
        case .merged:
            stdoutFD = try keep(scratchFile(), "a file for its output")
            posix_spawn_file_actions_adddup2(&actions, stdoutFD, 1)
            posix_spawn_file_actions_adddup2(&actions, stdoutFD, 2)
        case .standardOutputTo(let file):
            let fd = try keep(open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644), "cannot write \(file)")
            stderrFD = try keep(scratchFile(), "a file for its errors")
            posix_spawn_file_actions_adddup2(&actions, fd, 1)
            posix_spawn_file_actions_adddup2(&actions, stderrFD, 2)
        case .appendedTo(let file):
            let fd = try keep(open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644), "cannot write \(file)")
            posix_spawn_file_actions_adddup2(&actions, fd, 1)
            posix_spawn_file_actions_adddup2(&actions, fd, 2)
        }
        if let directory = command.workingDirectory {
            guard let addchdir = addChangeDirectory else {
                throw SpawnError(
                    "cannot start \(command.program) in \(directory): this C library has no posix_spawn_file_actions_addchdir_np",
                    program: command.program)
            }
            _ = directory.withCString { addchdir(&actions, $0) }
        }

        var attributes = Self.attributes(newGroup: true)
        defer { posix_spawnattr_destroy(&attributes) }
        let pid = try spawn(path, command.arguments, environment, &actions, &attributes, program: command.program)
        handedOver = true
        // The child has its copies; keep only what is read back.
        for fd in opened where fd != stdoutFD && fd != stderrFD { close(fd) }
        return Child(pid: pid, program: command.program, stdoutFD: stdoutFD, stderrFD: stderrFD)
    }

    /// Spawn attributes: empty signal mask, every signal at its default, optionally a new process group.
    static func attributes(newGroup: Bool, newSession: Bool = false) -> posix_spawnattr_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if newGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
        }
        // POSIX_SPAWN_SETSID (glibc 2.26): a session of its own, so the caller's terminal and exit do not touch it.
        if newSession { flags |= 0x80 }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        return attributes
    }

    static func spawn(
        _ path: String, _ arguments: [String], _ environment: [String: String],
        _ actions: inout posix_spawn_file_actions_t, _ attributes: inout posix_spawnattr_t, program: String
    ) throws -> pid_t {
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let env = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in env { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, path, &actions, &attributes, argv, env)
        guard status == 0 else {
            throw SpawnError("cannot start \(path): \(String(cString: strerror(status)))", program: program)
        }
        return pid
    }

    /// Waits for the child, on the calling thread. Polls (1 ms growing to 50 ms) so that the deadline and a stop
    /// request are seen; only this thread signals and reaps the child, so a signal never reaches a reused pid.
    func wait(timeout: Duration?, stop: StopFlag) -> Wait {
        let clock = ContinuousClock()
        let deadline = timeout.map { clock.now + $0 }
        var killAt: ContinuousClock.Instant?
        var timedOut = false
        var killed = false
        var status: Int32 = 0
        var pause: UInt32 = 1000
        while true {
            let done = waitpid(pid, &status, WNOHANG)
            if done == pid { break }
            if done < 0 && errno != EINTR { break }
            let now = clock.now
            if !killed && stop.isSet {
                kill(-pid, SIGKILL)
                killed = true
            }
            if let deadline, !timedOut, now >= deadline {
                timedOut = true
                kill(-pid, SIGTERM)
                killAt = now + .seconds(2)
            }
            if let killAt, !killed, now >= killAt {
                kill(-pid, SIGKILL)
                killed = true
            }
            usleep(pause)
            pause = min(pause * 2, 50_000)
        }
        // What the program left in its group goes too (a daemon that made a session of its own is not in it).
        kill(-pid, SIGKILL)
        return Wait(status: status, timedOut: timedOut)
    }

    func collect(status wait: Wait, limit: Int) -> InvocationResult {
        let status = wait.status
        let exit: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let out = stdoutFD >= 0 ? Self.tail(stdoutFD, limit: limit) : ""
        let err = stderrFD >= 0 ? Self.tail(stderrFD, limit: limit) : ""
        if stdoutFD >= 0 { close(stdoutFD) }
        if stderrFD >= 0 { close(stderrFD) }
        return InvocationResult(exitCode: exit, stdout: out, stderr: err, timedOut: wait.timedOut)
    }

    /// The last `limit` bytes of a file, as text; a cut is marked at its start.
    static func tail(_ fd: Int32, limit: Int) -> String {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return "" }
        let size = Int(info.st_size)
        let start = max(0, size - limit)
        var data = [UInt8](repeating: 0, count: size - start)
        var done = 0
        while done < data.count {
            let count = data.withUnsafeMutableBytes {
                pread(fd, $0.baseAddress! + done, $0.count - done, off_t(start + done))
            }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            done += count
        }
        let text = String(decoding: data[0..<done], as: UTF8.self)
        return start > 0 ? "[… first \(start) bytes cut …]\n" + text : text
    }

    /// An unlinked temporary file, read and written. (`mkostemp` is not in Swift's Glibc module: until ``keep``
    /// duplicates it closed-on-exec, a program another thread starts may inherit it, which costs nothing: a file,
    /// unlike a pipe, never makes anyone wait.)
    static func scratchFile() -> Int32 {
        var template = Array((NSTemporaryDirectory() + "/gold-spawn-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd >= 0 { template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) } }
        return fd
    }

    static func writeAll(_ fd: Int32, _ data: Data, program: String) throws {
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var done = 0
            while done < bytes.count {
                let count = write(fd, bytes.baseAddress! + done, bytes.count - done)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else {
                    throw SpawnError(
                        "cannot start \(program): writing its input: \(String(cString: strerror(errno)))",
                        program: program)
                }
                done += count
            }
        }
    }
}

/// glibc's `posix_spawn_file_actions_addchdir_np` (2.29), which Swift's Glibc module does not declare.
private let addChangeDirectory:
    (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else {
            return nil
        }
        return unsafeBitCast(
            symbol,
            to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)
    }()
