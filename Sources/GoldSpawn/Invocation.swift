import Foundation

/// A program to run: what, with which arguments, environment, directory, input and output, and for how long.
///
/// An argument vector, never a shell line: nothing in an argument is interpreted.
public struct Invocation: Sendable, Hashable {
    /// The environment the program sees.
    public enum Environment: Sendable, Hashable {
        /// This process's environment with these variables set over it.
        case inherited(adding: [String: String])
        /// Exactly these variables and no others.
        case only([String: String])

        /// The variables this environment names (those added, or all of them).
        public var variables: [String: String] {
            switch self {
            case .inherited(let adding): adding
            case .only(let only): only
            }
        }
    }

    /// What the program reads on standard input.
    public enum Input: Sendable, Hashable {
        /// `/dev/null`.
        case none
        /// These bytes, then end of file.
        case bytes(Data)
        /// This file, from its start.
        case file(String)
    }

    /// Where the program's standard output and standard error go.
    public enum Output: Sendable, Hashable {
        /// Each collected on its own: ``InvocationResult/stdout`` and ``InvocationResult/stderr``.
        case separate
        /// Both collected together, interleaved as written, in ``InvocationResult/stdout``.
        case merged
        /// Standard output into this file (created or truncated, mode 0644); standard error collected.
        case standardOutputTo(String)
        /// Both appended to this file (a log; created when missing, mode 0644); nothing collected.
        case appendedTo(String)
    }

    public var program: String
    public var arguments: [String]
    public var environment: Environment
    /// The directory the program starts in; nil keeps this process's.
    public var workingDirectory: String?
    public var input: Input
    public var output: Output
    /// How long the program may run; then its process group gets SIGTERM and, 2 s later, SIGKILL. Nil: no deadline
    /// (cancelling the calling task still stops it).
    public var timeout: Duration?

    public init(
        _ program: String, _ arguments: [String] = [], environment: Environment = .inherited(adding: [:]),
        workingDirectory: String? = nil, input: Input = .none, output: Output = .separate, timeout: Duration?
    ) {
        self.program = program
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.input = input
        self.output = output
        self.timeout = timeout
    }

    /// The argument vector, program first.
    public var argv: [String] { [program] + arguments }

    /// The command line as a person would type it, for messages.
    public var line: String { ([program] + arguments).joined(separator: " ") }
}

/// What a finished program did. A non-zero exit is a result, not an error.
public struct InvocationResult: Sendable, Equatable {
    public var exitCode: Int32
    public var stdout: String
    public var stderr: String
    /// True when the runner stopped the program at its deadline.
    public var timedOut: Bool

    public init(exitCode: Int32, stdout: String = "", stderr: String = "", timedOut: Bool = false) {
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
        self.timedOut = timedOut
    }

    /// Exit 0 within the deadline.
    public var succeeded: Bool { exitCode == 0 && !timedOut }

    /// Standard output then standard error (with ``Invocation/Output/merged``, both as written).
    public var output: String { stderr.isEmpty ? stdout : stdout.isEmpty ? stderr : stdout + stderr }

    /// The outcome in one line for an error message: status, then the last lines the program wrote (stderr first).
    public var summary: String {
        let err = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        let out = stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let status = timedOut ? "timed out" : "exit \(exitCode)"
        let detail = (err.isEmpty ? out : err).split(separator: "\n").suffix(3).joined(separator: " | ")
        return detail.isEmpty ? status : "\(status): \(detail)"
    }
}

/// A program could not be started (one that ran and failed is an ``InvocationResult``).
public struct SpawnError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Reason: Sendable, Equatable {
        /// No such program in PATH or the system directories.
        case notFound
        /// It exists but could not start, or its input or output could not be set up.
        case cannotStart
    }

    public var program: String
    public var reason: Reason
    public var description: String

    public init(_ description: String, program: String = "", reason: Reason = .cannotStart) {
        self.description = description
        self.program = program
        self.reason = reason
    }

    static func notFound(_ program: String) -> SpawnError {
        SpawnError("\(program) is not installed on this machine", program: program, reason: .notFound)
    }
}

/// Runs programs. The live one is ``SystemRunner``; tests use GoldTestSupport's `ScriptedRunner`.
public protocol ProgramRunner: Sendable {
    /// Runs the command to its end. Throws ``SpawnError`` only when it cannot start; cancelling the calling task
    /// kills the program's process group and returns what it had written.
    func run(_ command: Invocation) async throws -> InvocationResult
    /// The absolute path of `program`, or nil when it is not installed.
    func locate(_ program: String) -> String?
}

extension ProgramRunner {
    /// Runs `program` with `arguments`, standard input /dev/null, the two outputs collected apart.
    public func run(
        _ program: String, _ arguments: [String], environment: [String: String] = [:], timeout: Duration?
    ) async throws -> InvocationResult {
        try await run(Invocation(program, arguments, environment: .inherited(adding: environment), timeout: timeout))
    }
}
