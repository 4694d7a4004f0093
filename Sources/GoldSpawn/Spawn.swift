import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Shorthands over ``SystemRunner`` for a caller that needs no fake.
public enum Spawn {
    /// Runs `program` with `arguments`, standard output and standard error merged as written.
    /// `environment`: exactly these variables when given, else this process's.
    public static func run(
        _ program: String, _ arguments: [String], timeout: Duration?, environment: [String: String]? = nil
    ) async throws -> InvocationResult {
        try await SystemRunner().run(
            Invocation(
                program, arguments, environment: environment.map { .only($0) } ?? .inherited(adding: [:]),
                output: .merged, timeout: timeout))
    }

    /// The program's path, or ``SpawnError`` naming it when it is not installed.
    public static func locate(_ name: String) throws -> String {
        guard let path = SystemRunner.locate(name) else { throw SpawnError.notFound(name) }
        return path
    }

    /// Starts a long-running program in a new session, detached from the caller, output appended to `log`.
    /// Returns its pid; the caller records it to stop it later.
    public static func daemon(
        _ program: String, _ arguments: [String], log: String, environment: [String: String]? = nil
    ) throws -> pid_t {
        let path = try locate(program)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = Child.attributes(newGroup: false, newSession: true)
        defer { posix_spawnattr_destroy(&attributes) }
        return try Child.spawn(
            path, arguments, environment ?? ProcessInfo.processInfo.environment, &actions, &attributes, program: program
        )
    }
}
