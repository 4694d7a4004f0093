import GoldCore

/// What the director's API asks of the workflow runner.
public protocol WorkflowControl: Sendable {
    func start(_ kind: WorkflowKind, machine: String, parameters: [String: String], actor: String) async throws -> Workflow
    /// A person's retry, resolve or abort.
    func act(_ event: WorkflowEvent, on workflow: String, actor: String) async throws -> Workflow
    /// The agent on `machine` finished one of its commands.
    func complete(command: String, machine: String, outcome: WorkflowEvent.Outcome, actor: String) async throws
    /// Progress of a long agent command (bytes written, percent).
    func progress(command: String, machine: String, fraction: Double, detail: String?) async throws
    /// The agent commands waiting for `machine`'s agent.
    func agentCommands(machine: String) async throws -> [Command]
}
