import Foundation
import GoldCore
import GoldSQLite
import GoldWorkflow
import Synchronization
import Testing

@testable import GoldRunner

/// Rollouts through the runner and the SQLite store, with simulated machines and agents.
@Suite(.serialized) struct RolloutRunnerTests {
    static let machines = ["w1", "w2", "w3"]

    static func setUp() async throws -> (SQLiteStore, FakeWorld, WorkflowRunner, String) {
        let (store, dir) = try RunnerTests.makeStore()
        let specs = machines.enumerated().map { index, name in
            MachineSpec(
                name: name, role: "web", macs: [MACAddress("52:54:00:00:01:0\(index)")!],
                binaries: [BinarySpec(name: "hello", source: "dir:/src/hello", installs: ["/usr/local/bin/hello"])],
                power: PowerSpec(driver: .qemu, address: "/tmp/\(name).qmp"))
        }
        _ = try await store.applyFleet(Fleet(machines: specs), prune: false, dryRun: false, actor: "test")
        let world = FakeWorld(store: store)
        return (store, world, WorkflowRunner(store: store, actions: world, logger: RunnerTests.logger), dir)
    }

    /// Agents answer, the runner passes, rollouts learn outcomes; a bounded number of rounds, no clock.
    static func run(_ runner: WorkflowRunner, _ world: FakeWorld, _ store: SQLiteStore, rollout id: String) async throws
        -> Rollout
    {
        for _ in 0..<400 {
            await runner.drain()
            for machine in machines { try await world.agentTurn(runner, machine: machine) }
            await runner.pass()
            await runner.rolloutPass()
            if let rollout = try await store.rollout(id: id), rollout.isFinished { return rollout }
        }
        return try #require(try await store.rollout(id: id))
    }

    @Test func aPassingCanaryLetsTheBatchesFinish() async throws {
        let (store, world, runner, dir) = try await Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let started = try await runner.startRollout(
            .softwareUpdate, selector: "role=web", parameters: ["binary": "hello"], canary: 1, batchSize: 2,
            maxFailures: 0, actor: "test")
        #expect(started.targets.map(\.batch) == [0, 1, 1])
        #expect(started.targets[0].workflow == "\(started.id).w1")
        #expect(started.targets[1].workflow == nil, "the batch waits for the canary")
        let rollout = try await Self.run(runner, world, store, rollout: started.id)
        #expect(rollout.status == .succeeded)
        #expect(rollout.targets.allSatisfy { $0.outcome == .succeeded })
        let canary = try #require(try await store.workflow(id: "\(started.id).w1"))
        let batch = try #require(try await store.workflow(id: "\(started.id).w2"))
        #expect(canary.updatedAt <= batch.createdAt, "the batch started only after the canary finished")
    }

    @Test func aFailingCanaryHaltsBeforeTouchingTheOthers() async throws {
        let (store, world, runner, dir) = try await Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        world.failChecks.withLock { $0 = ["w1"] }
        let started = try await runner.startRollout(
            .softwareUpdate, selector: "name=w1,w2,w3", parameters: ["binary": "hello"], canary: 1,
            batchSize: 2, maxFailures: 1, actor: "test")
        let rollout = try await Self.run(runner, world, store, rollout: started.id)
        #expect(rollout.status == .halted)
        #expect(rollout.reason?.hasPrefix("canary w1 failed:") == true, "\(rollout.reason ?? "")")
        // The canary's binary went back (the restore plan ran) and a person is asked.
        #expect(try await store.workflow(id: "\(started.id).w1")?.status == .intervention)
        for machine in ["w2", "w3"] {
            #expect(try await store.listWorkflows(machine: machine, activeOnly: false, limit: 10).isEmpty)
        }
    }

    @Test func badSelectorsAndSizesAreRefusedByField() async throws {
        let (_, _, runner, dir) = try await Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (selector, batch, field) in [
            ("role=db", 1, "select"), ("color=red", 1, "select"), ("name=w9", 1, "select"), ("all", 0, "batch"),
        ] {
            let error = await #expect(throws: GoldError.self) {
                _ = try await runner.startRollout(
                    .softwareUpdate, selector: selector, parameters: [:], canary: 1, batchSize: batch, maxFailures: 0,
                    actor: "t")
            }
            #expect(error?.location == field, "\(selector)")
        }
    }
}
