import Foundation
import GoldSpawn

/// The one fake ``ProgramRunner``: answers each command from a script, records every command, and runs for real
/// what the script passes on (returns nil for), so a test can fake `ipmitool` and still run `gzip`.
public final class ScriptedRunner: ProgramRunner, @unchecked Sendable {
    public typealias Script = @Sendable (Invocation) throws -> InvocationResult?

    private let lock = NSLock()
    private var recorded: [Invocation] = []
    private let script: Script
    private let locator: @Sendable (String) -> String?

    /// `script` answers a command, or returns nil to run it for real. `locate` says where a program is installed
    /// (default: where it really is).
    public init(
        locate: @escaping @Sendable (String) -> String? = { SystemRunner.locate($0) }, script: @escaping Script
    ) {
        self.script = script
        self.locator = locate
    }

    /// Answers with `replies` in order; past the last one, exit 99 "script exhausted".
    public convenience init(replies: [InvocationResult]) {
        let queue = Replies(replies)
        self.init(script: { _ in queue.next() })
    }

    /// Every command run so far, in order.
    public var commands: [Invocation] { lock.withLock { recorded } }

    /// The programs run so far, by their last path component.
    public var programs: [String] { commands.map { ($0.program as NSString).lastPathComponent } }

    public func locate(_ program: String) -> String? { locator(program) }

    public func run(_ command: Invocation) async throws -> InvocationResult {
        lock.withLock { recorded.append(command) }
        if let answer = try script(command) { return answer }
        return try await SystemRunner().run(command)
    }
}

private final class Replies: @unchecked Sendable {
    private let lock = NSLock()
    private var replies: [InvocationResult]
    init(_ replies: [InvocationResult]) { self.replies = replies }
    func next() -> InvocationResult {
        lock.withLock {
            replies.isEmpty ? InvocationResult(exitCode: 99, stderr: "script exhausted") : replies.removeFirst()
        }
    }
}
