import Foundation
import GoldCore
import GoldSQLite
import GoldWorkflow
import Logging
import Synchronization
import Testing

@testable import GoldRunner

/// Side effects that only record what was asked, and a simulated machine that reacts like a lab VM would.
final class FakeWorld: MachineActions, @unchecked Sendable {
    let executed = Mutex<[(String, Action)]>([])
    let store: SQLiteStore
    /// When false the machine never reaches PXE (powered off behind the driver's back).
    let machineAnswers = Mutex(true)
    /// The director "dies" inside the next power command: the machine acts, the director never hears back. `hung`
    /// says when it hangs; the test then cancels the runner's work, as a kill would end it.
    let hangNextPower = Mutex(false)
    let hung = AsyncStream.makeStream(of: Void.self)
    /// Machines whose checks from the build server fail.
    let failChecks = Mutex<Set<String>>([])

    init(store: SQLiteStore) { self.store = store }

    func execute(_ action: Action, machine: MachineRecord, workflow: Workflow) async -> WorkflowEvent.Outcome {
        let id = workflow.current?.commandID ?? "?"
        executed.withLock { $0.append((id, action)) }
        switch action {
        case .power(let power) where power == .onOrCycle || power == .cycle:
            if machineAnswers.withLock({ $0 }) {
                // The machine PXE-boots: the deploy server sees it fetch its loader.
                _ = try? await store.appendEvent(
                    NewEvent(actor: "deploy", kind: "boot.fetch", machine: machine.name, message: "tftp undionly.kpxe"))
            }
            if hangNextPower.withLock({
                let hang = $0
                $0 = false
                return hang
            }) {
                hung.continuation.yield()
                try? await Task.sleep(for: .seconds(3600))
            }
            return .succeeded(detail: "power")
        case .buildImage: return .succeeded(detail: "built", outputs: ["image.version": "1"])
        case .compile:
            return .succeeded(detail: "reused", outputs: ["binary.hello.artifact": String(repeating: "ab", count: 32)])
        case .serverChecks where failChecks.withLock({ $0.contains(machine.name) }):
            return .failed(reason: "check tcp \(machine.name):7070 failed: connection refused")
        default: return .succeeded(detail: "\(action)")
        }
    }

    func evidence(machine: MachineRecord) async -> [String] {
        ["serial: iPXE 1.21 -- Open Source Network Boot Firmware"]
    }

    /// The agent: takes its queued commands and completes them like the real one would.
    func agentTurn(_ runner: WorkflowRunner, machine: String) async throws {
        for command in try await runner.agentCommands(machine: machine) {
            executed.withLock { $0.append((command.id, command.action)) }
            if case .agent(.reboot) = command.action {
                try await runner.complete(
                    command: command.id, machine: machine, outcome: .succeeded(detail: "acked"), actor: "agent")
                _ = try await store.appendEvent(
                    NewEvent(
                        actor: "agent", kind: "machine.boot.success", machine: machine,
                        message: "boot success", data: .object(["kernel": .string("6.1.0-28-amd64")])))
            } else {
                try await runner.complete(
                    command: command.id, machine: machine, outcome: .succeeded(detail: "done"), actor: "agent")
            }
        }
    }
}

@Suite(.serialized) struct RunnerTests {
    static func makeStore() throws -> (SQLiteStore, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("runner-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: dir + "/gold.db")
        return (store, dir)
    }

    static func addMachine(_ store: SQLiteStore) async throws {
        _ = try await store.applyFleet(
            Fleet(machines: [
                MachineSpec(
                    name: "m1", macs: [MACAddress("52:54:00:00:00:01")!],
                    power: PowerSpec(driver: .qemu, address: "/tmp/x.qmp"))
            ]),
            prune: false, dryRun: false, actor: "test")
    }

    static let logger = Logger(label: "test")

    /// Runs the launched commands, lets the agent take its own, runs what that launched, then makes one runner pass.
    static func turn(_ runner: WorkflowRunner, _ world: FakeWorld) async throws {
        await runner.drain()
        try await world.agentTurn(runner, machine: "m1")
        await runner.drain()
        await runner.pass()
    }

    @Test func provisionEndToEndWithASimulatedMachine() async throws {
        let (store, dir) = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await Self.addMachine(store)
        let world = FakeWorld(store: store)
        let runner = WorkflowRunner(store: store, actions: world, logger: Self.logger)
        let started = try await runner.start(.provision, machine: "m1", parameters: [:], actor: "test")
        // One workflow per machine: the second is refused with the first one's name.
        await #expect(throws: GoldError.self) {
            _ = try await runner.start(.restore, machine: "m1", parameters: [:], actor: "test")
        }
        do {
            _ = try await runner.start(.restore, machine: "m1", parameters: [:], actor: "test")
        } catch {
            #expect("\(error)".contains("held by workflow \(started.id) (provision)"))
        }
        for _ in 0..<40 {
            try await Self.turn(runner, world)
            // The netboot environment checks in once the machine fetched its loader.
            if let current = try await store.workflow(id: started.id)?.current,
                current.definition.awaits == .netbootCheckIn
            {
                _ = try await store.appendEvent(
                    NewEvent(actor: "agent", kind: "machine.netboot.checkin", machine: "m1", message: "checked in"))
            }
            if try await store.workflow(id: started.id)?.isFinished == true { break }
        }
        let finished = try #require(try await store.workflow(id: started.id))
        #expect(
            finished.status == .succeeded,
            "\(finished.steps.map { "\($0.definition.name): \($0.state) \($0.detail ?? "")" })")
        #expect(try await store.machine(named: "m1")?.state == .ready)
        // The check-in route consumes it; simulated here.
        #expect(try await store.machine(named: "m1")?.nextBoot == .netbootOnce(.deploy))
        let kinds = try await store.events(after: 0, machine: "m1", limit: 1000).map(\.kind)
        #expect(kinds.contains("workflow.succeeded"))
        #expect(kinds.filter { $0 == "workflow.step.succeeded" }.count == finished.steps.count)
    }

    @Test func aSilentMachineLandsInInterventionsWithEvidenceAndRetryFinishes() async throws {
        let (store, dir) = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await Self.addMachine(store)
        let world = FakeWorld(store: store)
        world.machineAnswers.withLock { $0 = false }
        var now = Date()
        let clock = Mutex(now)
        let runner = WorkflowRunner(store: store, actions: world, logger: Self.logger, clock: { clock.withLock { $0 } })
        let workflow = try await runner.start(.provision, machine: "m1", parameters: [:], actor: "test")
        for _ in 0..<10 { try await Self.turn(runner, world) }
        #expect(
            try await store.workflow(id: workflow.id)?.current?.definition.name
                == "power on or cycle into the netboot environment")
        // Past the PXE deadline three times: two more power-cycles, then a person is asked.
        for _ in 0..<3 {
            now = now.addingTimeInterval(121)
            clock.withLock { $0 = now }
            try await Self.turn(runner, world)
            try await Self.turn(runner, world)
        }
        let stuck = try #require(try await store.workflow(id: workflow.id))
        #expect(stuck.status == .intervention)
        #expect(stuck.intervention?.evidence.contains("serial: iPXE 1.21 -- Open Source Network Boot Firmware") == true)
        #expect(world.executed.withLock { $0.filter { $0.1 == .power(.onOrCycle) }.count } == 3)
        // Powered on by a person, then retried: the workflow finishes.
        world.machineAnswers.withLock { $0 = true }
        // Back to the wall clock, which stamps the store's events.
        clock.withLock { $0 = Date() }
        _ = try await runner.act(.retry, on: workflow.id, actor: "ops")
        for _ in 0..<40 {
            try await Self.turn(runner, world)
            if let current = try await store.workflow(id: workflow.id)?.current,
                current.definition.awaits == .netbootCheckIn
            {
                _ = try await store.appendEvent(
                    NewEvent(actor: "agent", kind: "machine.netboot.checkin", machine: "m1", message: "checked in"))
            }
            if try await store.workflow(id: workflow.id)?.isFinished == true { break }
        }
        #expect(try await store.workflow(id: workflow.id)?.status == .succeeded)
    }

    @Test func aCheckInReadInTheSamePassAsTheBootFetchesIsNotDropped() async throws {
        let (store, dir) = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await Self.addMachine(store)
        let world = FakeWorld(store: store)
        world.machineAnswers.withLock { $0 = false }
        let runner = WorkflowRunner(store: store, actions: world, logger: Self.logger)
        let workflow = try await runner.start(.provision, machine: "m1", parameters: [:], actor: "test")
        for _ in 0..<10 { try await Self.turn(runner, world) }
        #expect(
            try await store.workflow(id: workflow.id)?.current?.definition.name
                == "power on or cycle into the netboot environment")
        // The netboot environment booted and checked in before the runner's next pass read the fetches.
        _ = try await store.appendEvent(
            NewEvent(actor: "deploy", kind: "boot.fetch", machine: "m1", message: "tftp undionly.kpxe"))
        _ = try await store.appendEvent(
            NewEvent(actor: "agent", kind: "machine.netboot.checkin", machine: "m1", message: "checked in"))
        await runner.pass()
        let after = try #require(try await store.workflow(id: workflow.id))
        #expect(
            after.steps.first { $0.definition.name == "verify check-in from the netboot environment" }?.state
                == .succeeded)
        #expect(after.current?.definition.name == "write the image to the local disk")
    }

    @Test func aCheckInThatCameWhileTheFetchesWereBeingProcessedCounts() async throws {
        let (store, dir) = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await Self.addMachine(store)
        let world = FakeWorld(store: store)
        world.machineAnswers.withLock { $0 = false }
        // A busy director: its passes run well after the events they read.
        let clock = Mutex(Date())
        let runner = WorkflowRunner(store: store, actions: world, logger: Self.logger, clock: { clock.withLock { $0 } })
        let workflow = try await runner.start(.provision, machine: "m1", parameters: [:], actor: "test")
        for _ in 0..<10 { try await Self.turn(runner, world) }
        #expect(
            try await store.workflow(id: workflow.id)?.current?.definition.name
                == "power on or cycle into the netboot environment")
        _ = try await store.appendEvent(
            NewEvent(actor: "deploy", kind: "boot.fetch", machine: "m1", message: "tftp undionly.kpxe"))
        clock.withLock { $0 = Date().addingTimeInterval(10) }
        await runner.pass()
        #expect(
            try await store.workflow(id: workflow.id)?.current?.definition.name
                == "verify check-in from the netboot environment")
        // The check-in came before the pass that read the fetches had finished with them; the next pass reads it.
        _ = try await store.appendEvent(
            NewEvent(actor: "agent", kind: "machine.netboot.checkin", machine: "m1", message: "checked in"))
        await runner.pass()
        #expect(
            try await store.workflow(id: workflow.id)?.current?.definition.name == "write the image to the local disk")
    }

    @Test func aRestartedDirectorNeverRunsADestructiveCommandTwice() async throws {
        let (store, dir) = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await Self.addMachine(store)
        let world = FakeWorld(store: store)
        // The first director dies inside the power command: the machine powered on, the command stays 'started'.
        world.hangNextPower.withLock { $0 = true }
        let first = WorkflowRunner(store: store, actions: world, logger: Self.logger)
        let workflow = try await first.start(.provision, machine: "m1", parameters: [:], actor: "test")
        let dying = Task { for _ in 0..<6 { try await Self.turn(first, world) } }
        var hangs = world.hung.stream.makeAsyncIterator()
        _ = await hangs.next()
        dying.cancel()
        _ = await dying.result
        let interrupted = try await store.openCommands().filter { $0.command.action == .power(.onOrCycle) }
        #expect(interrupted.map(\.state) == [.started])
        // A new director on the same store.
        let second = WorkflowRunner(store: store, actions: world, logger: Self.logger)
        try await second.recover()
        for _ in 0..<40 {
            try await Self.turn(second, world)
            if let current = try await store.workflow(id: workflow.id)?.current,
                current.definition.awaits == .netbootCheckIn
            {
                _ = try await store.appendEvent(
                    NewEvent(actor: "agent", kind: "machine.netboot.checkin", machine: "m1", message: "checked in"))
            }
            if try await store.workflow(id: workflow.id)?.isFinished == true { break }
        }
        #expect(try await store.workflow(id: workflow.id)?.status == .succeeded)
        let ids = world.executed.withLock { $0.filter { $0.1.isDestructive }.map(\.0) }
        #expect(Set(ids).count == ids.count, "a destructive command ran twice: \(ids)")
    }
}
