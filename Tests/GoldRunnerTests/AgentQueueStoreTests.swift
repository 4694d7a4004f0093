import Foundation
import GoldCore
import GoldSQLite
import GoldWorkflow
import Testing

/// The agent's queue read from the store for one machine (each waiting agent's long-poll asks several times a second).
@Suite struct AgentQueueStoreTests {
    @Test func openCommandsOfOneMachineAreItsOpenOnesOldestFirst() async throws {
        let (store, dir) = try RunnerTests.makeStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try await store.applyFleet(
            Fleet(
                machines: ["m1", "m2", "m3"].enumerated().map { index, name in
                    MachineSpec(name: name, macs: [MACAddress("52:54:00:00:02:0\(index)")!])
                }), prune: false, dryRun: false, actor: "test")
        func command(_ machine: String, _ n: Int) -> Command {
            Command(
                id: "wf-\(machine).\(n).1", workflow: "wf-\(machine)", machine: machine, step: "step \(n)",
                action: .agent(.machineChecks))
        }
        for machine in ["m1", "m2", "m3"] {
            try await store.createWorkflow(
                Workflow(id: "wf-\(machine)", kind: .restore, machine: machine, steps: [], now: Date()), actor: "test")
        }
        let wf1 = try #require(try await store.workflow(id: "wf-m1"))
        try await store.saveWorkflow(wf1, commands: [command("m1", 0)], events: [])
        try await store.saveWorkflow(wf1, commands: [command("m1", 1), command("m1", 2)], events: [])
        let wf2 = try #require(try await store.workflow(id: "wf-m2"))
        try await store.saveWorkflow(wf2, commands: [command("m2", 0)], events: [])
        #expect(try await store.startCommand(id: "wf-m1.0.1"))
        try await store.finishCommand(id: "wf-m1.0.1", outcome: .succeeded())
        #expect(try await store.startCommand(id: "wf-m1.1.1"))

        let m1 = try await store.openCommands(machine: "m1")
        #expect(m1.map(\.command.id) == ["wf-m1.1.1", "wf-m1.2.1"])
        #expect(m1.map(\.state) == [.started, .issued])
        #expect(try await store.openCommands(machine: "m2").map(\.command.id) == ["wf-m2.0.1"])
        #expect(try await store.openCommands(machine: "m3").isEmpty)
        // The same as the whole queue filtered, which is what the protocol's default does for other stores.
        let all = try await store.openCommands()
        for machine in ["m1", "m2", "m3"] {
            #expect(try await store.openCommands(machine: machine) == all.filter { $0.command.machine == machine })
        }
    }
}
