import GoldCore

/// What the director's API asks of the workflow runner.
public protocol WorkflowControl: Sendable {
    func start(_ kind: WorkflowKind, machine: String, parameters: [String: String], actor: String) async throws
        -> Workflow
    /// A person's retry, resolve or abort.
    func act(_ event: WorkflowEvent, on workflow: String, actor: String) async throws -> Workflow
    /// The agent on `machine` finished one of its commands.
    func complete(command: String, machine: String, outcome: WorkflowEvent.Outcome, actor: String) async throws
    /// Progress of a long agent command (bytes written, percent).
    func progress(command: String, machine: String, fraction: Double, detail: String?) async throws
    /// The agent commands waiting for `machine`'s agent.
    func agentCommands(machine: String) async throws -> [Command]
    /// The agent's long-poll: the commands waiting for `machine`, waiting up to `wait` for one when there is none.
    func nextAgentCommands(machine: String, wait: Duration) async throws -> [Command]
    /// Starts a rollout of `kind` over the machines `selector` picks (`role=web`, `profile=lab`, `name=a,b`, `all`).
    func startRollout(
        _ kind: WorkflowKind, selector: String, parameters: [String: String], canary: Int, batchSize: Int,
        maxFailures: Int,
        actor: String
    ) async throws -> Rollout
    /// A person's pause, resume or abort of a rollout.
    func act(_ event: RolloutEvent, onRollout id: String, actor: String) async throws -> Rollout
}

extension WorkflowControl {
    /// Asks again every 250 ms until a command waits or `wait` has passed.
    public func nextAgentCommands(machine: String, wait: Duration) async throws -> [Command] {
        let deadline = ContinuousClock.now + wait
        while true {
            let commands = try await agentCommands(machine: machine)
            if !commands.isEmpty || ContinuousClock.now >= deadline { return commands }
            try await Task.sleep(for: .milliseconds(250))
        }
    }
}

/// Machines chosen by a rollout's selector, in name order.
public enum MachineSelector {
    public static func select(_ selector: String, from machines: [(name: String, role: String?, profile: String?)])
        throws -> [String]
    {
        let sorted = machines.sorted { $0.name < $1.name }
        if selector == "all" { return sorted.map(\.name) }
        let parts = selector.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[1].isEmpty else {
            throw RolloutError("'\(selector)' must be role=ROLE, profile=PROFILE, name=A,B or all", field: "select")
        }
        let values = Set(parts[1].split(separator: ",").map(String.init))
        switch parts[0] {
        case "role": return sorted.filter { $0.role.map(values.contains) ?? false }.map(\.name)
        case "profile": return sorted.filter { $0.profile.map(values.contains) ?? false }.map(\.name)
        case "name":
            let known = Set(sorted.map(\.name))
            if let missing = values.subtracting(known).sorted().first {
                throw RolloutError("no machine named '\(missing)'", field: "select")
            }
            return sorted.filter { values.contains($0.name) }.map(\.name)
        default:
            throw RolloutError("unknown selector key '\(parts[0])'; use role, profile, name or all", field: "select")
        }
    }
}
