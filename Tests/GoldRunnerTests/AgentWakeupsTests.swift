import Foundation
import GoldCore
import GoldWorkflow
import Testing

@testable import GoldRunner

/// A waiting agent is woken when a command for its machine starts, not found by reading the store again and again.
@Suite(.serialized) struct AgentWakeupsTests {
    @Test func aWakeBeforeOrDuringTheWaitEndsItAndOnlyForThatMachine() async {
        let wakeups = AgentWakeups()
        let far = ContinuousClock.now + .seconds(600)
        // Woken between reading the generation and waiting: the wait ends at once.
        let before = await wakeups.generation("m1")
        await wakeups.wake("m1")
        #expect(await wakeups.wait("m1", after: before, until: far))
        // Woken while waiting; another machine's waiter stays. Both wait far past the test, so however slowly the
        // tasks start (a loaded CI machine), both are waiting before the wake.
        let other = Task { await wakeups.wait("m2", after: await wakeups.generation("m2"), until: far) }
        while await wakeups.waiting < 1 { await Task.yield() }
        let now = await wakeups.generation("m1")
        let waiting = Task { await wakeups.wait("m1", after: now, until: far) }
        while await wakeups.waiting < 2 { await Task.yield() }
        await wakeups.wake("m1")
        #expect(await waiting.value)
        #expect(await wakeups.waiting == 1, "m2's waiter was woken by m1's wake")
        await wakeups.wake("m2")
        #expect(await other.value)
        #expect(await wakeups.waiting == 0)
        // Nobody wakes m3: its wait ends at its deadline, false.
        #expect(
            await wakeups.wait(
                "m3", after: await wakeups.generation("m3"), until: ContinuousClock.now + .milliseconds(20)) == false)
        #expect(await wakeups.waiting == 0)
    }

    @Test func theAgentsLongPollEndsWhenItsCommandStarts() async throws {
        let (store, dir) = try RunnerTests.makeStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await RunnerTests.addMachine(store)
        let world = FakeWorld(store: store)
        // Nothing but a wake-up can end this wait early: the store is read again only after an hour.
        let runner = WorkflowRunner(
            store: store, actions: world, logger: RunnerTests.logger, agentRecheck: .seconds(3600))
        let deadline = ContinuousClock.now + .seconds(60)
        let poll = Task { (try await runner.nextAgentCommands(machine: "m1", wait: .seconds(60)), ContinuousClock.now) }
        // (Bounded by the poll's own wait, so a poll that ended early fails below instead of spinning forever.)
        while await runner.wakeups.waiting == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        try #require(await runner.wakeups.waiting > 0, "the agent's long-poll never waited")
        // A restore's first agent step: the reboot request.
        _ = try await runner.start(.restore, machine: "m1", parameters: [:], actor: "test")
        await runner.drain()
        let (commands, answeredAt) = try await poll.value
        #expect(commands.map(\.action) == [.agent(.reboot(netboot: true))])
        #expect(answeredAt < deadline, "answered when the command started, not when the long-poll ran out")
    }
}
