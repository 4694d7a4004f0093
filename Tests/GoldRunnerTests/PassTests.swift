import Foundation
import GoldCore
import GoldSQLite
import GoldWorkflow
import Synchronization
import Testing

@testable import GoldRunner

/// The runner's store, watched: how often a workflow is read back, and a listing of active workflows that can be made
/// to miss them once (a pass that listed before they started).
final class WatchedStore: GoldStore, WorkflowStore, @unchecked Sendable {
    let base: SQLiteStore
    let workflowReads = Mutex(0)
    let hideActiveOnce = Mutex(false)
    /// What the next listing of active workflows answers instead of the stored ones.
    let listActiveOnce = Mutex<[Workflow]?>(nil)

    init(_ base: SQLiteStore) { self.base = base }

    func workflow(id: String) async throws -> Workflow? {
        workflowReads.withLock { $0 += 1 }
        return try await base.workflow(id: id)
    }
    func listWorkflows(machine: String?, activeOnly: Bool, limit: Int) async throws -> [Workflow] {
        if machine == nil, activeOnly,
            hideActiveOnce.withLock({
                let hide = $0
                $0 = false
                return hide
            })
        {
            return []
        }
        if machine == nil, activeOnly,
            let listed = listActiveOnce.withLock({
                let listed = $0
                $0 = nil
                return listed
            })
        {
            return listed
        }
        return try await base.listWorkflows(machine: machine, activeOnly: activeOnly, limit: limit)
    }

    func createWorkflow(_ workflow: Workflow, actor: String) async throws {
        try await base.createWorkflow(workflow, actor: actor)
    }
    func saveWorkflow(_ workflow: Workflow, commands: [Command], events: [NewEvent]) async throws {
        try await base.saveWorkflow(workflow, commands: commands, events: events)
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

/// A clock the test moves.
final class TestClock: Sendable {
    let now = Mutex(Date())
    func advance(_ seconds: TimeInterval) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// What one pass of the runner reads and decides, with many workflows in flight in mind.
@Suite(.serialized) struct PassTests {
    /// A provision waiting for its machine to fetch boot files (the machine does not answer by itself).
    static func waitingForFetch() async throws -> (WatchedStore, WorkflowRunner, TestClock, Workflow, String) {
        let (base, dir) = try RunnerTests.makeStore()
        try await RunnerTests.addMachine(base)
        let store = WatchedStore(base)
        let world = FakeWorld(store: base)
        world.machineAnswers.withLock { $0 = false }
        let clock = TestClock()
        let runner = WorkflowRunner(
            store: store, actions: world, logger: RunnerTests.logger, clock: { clock.now.withLock { $0 } })
        let workflow = try await runner.start(.provision, machine: "m1", parameters: [:], actor: "test")
        for _ in 0..<10 { try await RunnerTests.turn(runner, world) }
        #expect(
            try await base.workflow(id: workflow.id)?.current?.definition.name
                == "power on or cycle into the netboot environment")
        return (store, runner, clock, workflow, dir)
    }

    @Test func anObservationForAWorkflowTheListingMissedCounts() async throws {
        let (store, runner, _, workflow, dir) = try await Self.waitingForFetch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The pass listed the active workflows before this one started, then read its machine's fetches.
        _ = try await store.appendEvent(
            NewEvent(actor: "deploy", kind: "boot.fetch", machine: "m1", message: "tftp undionly.kpxe"))
        store.hideActiveOnce.withLock { $0 = true }
        await runner.pass()
        await runner.pass()
        #expect(
            try await store.workflow(id: workflow.id)?.current?.definition.name
                == "verify check-in from the netboot environment")
    }

    @Test func anObservationCountsThoughTheListingWasTakenBeforeTheWorkflowStarted() async throws {
        let (store, runner, _, workflow, dir) = try await Self.waitingForFetch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The pass listed the workflow as it was created, before its first step started (no step has a start time).
        let created = Workflow(
            id: workflow.id, kind: .provision, machine: "m1", steps: Runbook.provision(StepTimings()),
            now: workflow.createdAt)
        store.listActiveOnce.withLock { $0 = [created] }
        _ = try await store.appendEvent(
            NewEvent(actor: "deploy", kind: "boot.fetch", machine: "m1", message: "tftp undionly.kpxe"))
        await runner.pass()
        #expect(
            try await store.workflow(id: workflow.id)?.current?.definition.name
                == "verify check-in from the netboot environment")
    }

    @Test func aPassReadsAgainOnlyWorkflowsPastTheirDeadline() async throws {
        let (store, runner, clock, workflow, dir) = try await Self.waitingForFetch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        store.workflowReads.withLock { $0 = 0 }
        await runner.pass()
        #expect(store.workflowReads.withLock { $0 } == 0, "nothing happened and no deadline passed")
        // Past the PXE deadline: the tick reads it and power-cycles again.
        clock.advance(121)
        await runner.pass()
        #expect(store.workflowReads.withLock { $0 } >= 1)
        #expect(try await store.base.workflow(id: workflow.id)?.current?.attempts == 2)
    }
}

/// Many machines' observations in one pass: each workflow gets its own, in the order they happened.
@Suite(.serialized) struct PassManyWorkflowsTests {
    @Test func onePassAppliesEveryMachinesObservationsInOrder() async throws {
        let (store, dir) = try RunnerTests.makeStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let names = (1...12).map { "n\($0)" }
        _ = try await store.applyFleet(
            Fleet(
                machines: names.enumerated().map { index, name in
                    MachineSpec(
                        name: name, macs: [MACAddress(bytes: [0x52, 0x54, 0, 0, 4, UInt8(index)])!],
                        power: PowerSpec(driver: .qemu, address: "/tmp/x.qmp"))
                }), prune: false, dryRun: false, actor: "test")
        let world = FakeWorld(store: store)
        world.machineAnswers.withLock { $0 = false }
        let runner = WorkflowRunner(store: store, actions: world, logger: RunnerTests.logger)
        var ids: [String] = []
        for name in names {
            ids.append(try await runner.start(.provision, machine: name, parameters: [:], actor: "test").id)
        }
        for _ in 0..<10 {
            await runner.drain()
            await runner.pass()
        }
        for id in ids {
            #expect(
                try await store.workflow(id: id)?.current?.definition.name
                    == "power on or cycle into the netboot environment")
        }
        // Every machine fetched its boot files and checked in before the next pass.
        for name in names {
            _ = try await store.appendEvent(
                NewEvent(actor: "deploy", kind: "boot.fetch", machine: name, message: "tftp undionly.kpxe"))
        }
        for name in names {
            _ = try await store.appendEvent(
                NewEvent(actor: "agent", kind: "machine.netboot.checkin", machine: name, message: "checked in"))
        }
        await runner.pass()
        for id in ids {
            #expect(try await store.workflow(id: id)?.current?.definition.name == "write the image to the local disk")
        }
    }
}
