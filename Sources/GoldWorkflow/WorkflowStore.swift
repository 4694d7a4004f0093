import GoldCore

/// A command as the store keeps it: issued (persisted, not yet run), started (running or interrupted), done.
public struct CommandRecord: Hashable, Sendable, Codable {
    public enum State: String, Hashable, Sendable, Codable { case issued, started, done }
    public var command: Command
    public var state: State
    public var outcome: WorkflowEvent.Outcome?

    public init(command: Command, state: State, outcome: WorkflowEvent.Outcome? = nil) {
        self.command = command
        self.state = state
        self.outcome = outcome
    }
}

/// Durable workflows and their commands. Every transition is saved, with the commands it issued, in one transaction
/// before any of those commands runs.
public protocol WorkflowStore: Sendable {
    /// Creates a running workflow; throws a conflict naming the workflow that already holds the machine.
    func createWorkflow(_ workflow: Workflow, actor: String) async throws
    /// Saves a transition: the new state, the commands it issued, and events for people.
    func saveWorkflow(_ workflow: Workflow, commands: [Command], events: [NewEvent]) async throws
    func workflow(id: String) async throws -> Workflow?
    /// Newest first.
    func listWorkflows(machine: String?, activeOnly: Bool, limit: Int) async throws -> [Workflow]
    /// Commands issued or started and not done, oldest first.
    func openCommands() async throws -> [CommandRecord]
    /// The same for one machine: what its agent's long-poll asks for, several times a second per waiting agent.
    func openCommands(machine: String) async throws -> [CommandRecord]
    /// Marks an issued command started. False when it was not in the issued state (it may have run already).
    func startCommand(id: String) async throws -> Bool
    func finishCommand(id: String, outcome: WorkflowEvent.Outcome) async throws
    func command(id: String) async throws -> CommandRecord?
    func createRollout(_ rollout: Rollout, actor: String) async throws
    /// Saves a rollout's new state with events for people.
    func saveRollout(_ rollout: Rollout, events: [NewEvent]) async throws
    func rollout(id: String) async throws -> Rollout?
    /// Newest first; `activeOnly`: running or paused.
    func listRollouts(activeOnly: Bool, limit: Int) async throws -> [Rollout]
}

extension WorkflowStore {
    public func openCommands(machine: String) async throws -> [CommandRecord] {
        try await openCommands().filter { $0.command.machine == machine }
    }
}
