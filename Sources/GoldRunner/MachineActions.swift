import GoldCore
import GoldWorkflow

/// The side effects the runner cannot do with the store alone: compile, images, power, checks from the build server.
/// Progress of a long action (a compile, an image build): fraction done and what happens now.
public typealias ActionProgress = @Sendable (Double, String) async -> Void

public protocol MachineActions: Sendable {
    func execute(_ action: Action, machine: MachineRecord, workflow: Workflow) async -> WorkflowEvent.Outcome
    /// The same, reporting progress while it runs.
    func execute(_ action: Action, machine: MachineRecord, workflow: Workflow, progress: @escaping ActionProgress) async
        -> WorkflowEvent.Outcome
    /// What a person should see when the machine needs them: the serial console's tail in the lab, and so on.
    func evidence(machine: MachineRecord) async -> [String]
    /// Parameters a workflow starts with when the caller gave none (a restore writes the machine's current version).
    func defaults(for kind: WorkflowKind, machine: MachineRecord) async -> [String: String]
}

extension MachineActions {
    public func execute(
        _ action: Action, machine: MachineRecord, workflow: Workflow, progress: @escaping ActionProgress
    ) async -> WorkflowEvent.Outcome {
        await execute(action, machine: machine, workflow: workflow)
    }

    public func defaults(for kind: WorkflowKind, machine: MachineRecord) async -> [String: String] { [:] }
}
