import Foundation
import GoldCore
import GoldWorkflow

/// The director's store with every saved transition timed and reported to a recorder; finished workflows are announced.
struct MeasuringStore: GoldStore, WorkflowStore {
    let base: any GoldStore & WorkflowStore
    let recorder: TransitionRecorder
    let finished: @Sendable (Workflow) -> Void

    func saveWorkflow(_ workflow: Workflow, commands: [Command], events: [NewEvent]) async throws {
        let start = ContinuousClock.now
        try await base.saveWorkflow(workflow, commands: commands, events: events)
        let end = ContinuousClock.now
        recorder.saved(workflow, commit: end - start, savedAt: end)
        if workflow.status != .running { finished(workflow) }
    }

    // Everything else is passed through.
    func createWorkflow(_ workflow: Workflow, actor: String) async throws {
        try await base.createWorkflow(workflow, actor: actor)
    }
    func workflow(id: String) async throws -> Workflow? { try await base.workflow(id: id) }
    func listWorkflows(machine: String?, activeOnly: Bool, limit: Int) async throws -> [Workflow] {
        try await base.listWorkflows(machine: machine, activeOnly: activeOnly, limit: limit)
    }
    func openCommands() async throws -> [CommandRecord] { try await base.openCommands() }
    func openCommands(machine: String) async throws -> [CommandRecord] { try await base.openCommands(machine: machine) }
    func startCommand(id: String) async throws -> Bool { try await base.startCommand(id: id) }
    func finishCommand(id: String, outcome: WorkflowEvent.Outcome) async throws {
        try await base.finishCommand(id: id, outcome: outcome)
    }
    func command(id: String) async throws -> CommandRecord? { try await base.command(id: id) }
    func createRollout(_ rollout: Rollout, actor: String) async throws {
        try await base.createRollout(rollout, actor: actor)
    }
    func saveRollout(_ rollout: Rollout, events: [NewEvent]) async throws {
        try await base.saveRollout(rollout, events: events)
    }
    func rollout(id: String) async throws -> Rollout? { try await base.rollout(id: id) }
    func listRollouts(activeOnly: Bool, limit: Int) async throws -> [Rollout] {
        try await base.listRollouts(activeOnly: activeOnly, limit: limit)
    }

    func listMachines() async throws -> [MachineRecord] { try await base.listMachines() }
    func machine(named name: String) async throws -> MachineRecord? { try await base.machine(named: name) }
    func machine(mac: MACAddress) async throws -> MachineRecord? { try await base.machine(mac: mac) }
    func listProfiles() async throws -> [ProfileSpec] { try await base.listProfiles() }
    func applyFleet(_ fleet: Fleet, prune: Bool, dryRun: Bool, actor: String) async throws -> FleetPlan {
        try await base.applyFleet(fleet, prune: prune, dryRun: dryRun, actor: actor)
    }
    func setInventory(machine: String, inventory: JSONValue, actor: String) async throws {
        try await base.setInventory(machine: machine, inventory: inventory, actor: actor)
    }
    func setNextBoot(machine: String, _ next: NextBoot, actor: String) async throws {
        try await base.setNextBoot(machine: machine, next, actor: actor)
    }
    func netbootCheckIn(machine: String, generation: Int64, inventory: JSONValue, actor: String) async throws
        -> MachineRecord
    {
        try await base.netbootCheckIn(machine: machine, generation: generation, inventory: inventory, actor: actor)
    }
    func setState(machine: String, _ state: MachineState, actor: String) async throws {
        try await base.setState(machine: machine, state, actor: actor)
    }
    func firstEventID(since date: Date) async throws -> Int64 { try await base.firstEventID(since: date) }
    func directorKey() async throws -> [UInt8] { try await base.directorKey() }
    func appendEvent(_ event: NewEvent) async throws -> Event { try await base.appendEvent(event) }
    func events(after: Int64, machine: String?, limit: Int) async throws -> [Event] {
        try await base.events(after: after, machine: machine, limit: limit)
    }
    func newestEvents(machine: String?, limit: Int) async throws -> [Event] {
        try await base.newestEvents(machine: machine, limit: limit)
    }
    func pruneEvents(kindPrefix: String, before: Date) async throws -> Int {
        try await base.pruneEvents(kindPrefix: kindPrefix, before: before)
    }
    func insertToken(_ token: TokenRecord, actor: String) async throws {
        try await base.insertToken(token, actor: actor)
    }
    func token(hash: String) async throws -> TokenRecord? { try await base.token(hash: hash) }
    func listTokens() async throws -> [TokenRecord] { try await base.listTokens() }
    func revokeToken(id: String, actor: String) async throws -> Bool {
        try await base.revokeToken(id: id, actor: actor)
    }
}
