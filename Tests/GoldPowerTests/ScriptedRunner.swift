import Foundation
import GoldPower

/// A CommandRunner that answers from a script and records every call.
final class ScriptedRunner: CommandRunner, @unchecked Sendable {
    struct Call: Equatable {
        var program: String
        var arguments: [String]
        var environment: [String: String]
    }

    private let lock = NSLock()
    private var replies: [CommandResult]
    private var recorded: [Call] = []

    init(_ replies: [CommandResult]) { self.replies = replies }

    var calls: [Call] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    func run(_ program: String, _ arguments: [String], environment: [String: String], timeout: Duration) async throws
        -> CommandResult
    {
        lock.withLock {
            recorded.append(Call(program: program, arguments: arguments, environment: environment))
            guard !replies.isEmpty else { return CommandResult(exitCode: 99, stdout: "", stderr: "script exhausted") }
            return replies.removeFirst()
        }
    }
}
