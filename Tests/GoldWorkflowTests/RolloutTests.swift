import Foundation
import Testing

@testable import GoldWorkflow

@Suite struct RolloutTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func rollout(canary: Int = 1, batch: Int = 2, maxFailures: Int = 1) -> Rollout {
        Rollout(
            id: "ro-1", kind: .softwareUpdate, parameters: ["binary": "hello"], selector: "role=web",
            machines: ["w1", "w2", "w3", "w4"], canary: canary, batchSize: batch, maxFailures: maxFailures, now: now)
    }

    /// Every transition is stored as JSON and read back, as the runner does.
    func send(_ r: inout Rollout, _ event: RolloutEvent) -> [RolloutCommand] {
        let commands = RolloutEngine.reduce(&r, event, now: now)
        r = try! JSONDecoder().decode(Rollout.self, from: JSONEncoder().encode(r))
        return commands
    }

    @Test func batchesAreTheCanaryThenGroupsOfTheBatchSize() {
        #expect(rollout().targets.map(\.batch) == [0, 1, 1, 2])
        #expect(rollout(canary: 0, batch: 3).targets.map(\.batch) == [0, 0, 0, 1])
        #expect(rollout(canary: 2, batch: 5).targets.map(\.batch) == [0, 0, 1, 1])
    }

    @Test func aCanaryThatPassesLetsTheBatchesRunToTheEnd() {
        var r = rollout()
        #expect(send(&r, .start) == [.startWorkflow(machine: "w1")])
        _ = send(&r, .workflowStarted(machine: "w1", workflow: "wf-a", reason: nil))
        #expect(
            send(&r, .workflowFinished(machine: "w1", succeeded: true, detail: "ok")) == [
                .startWorkflow(machine: "w2"), .startWorkflow(machine: "w3"),
            ])
        // The batch runs together: one finishing does not start the next batch.
        #expect(send(&r, .workflowFinished(machine: "w2", succeeded: true, detail: "ok")).isEmpty)
        // One failure after the canary is within --max-failures 1.
        #expect(
            send(&r, .workflowFinished(machine: "w3", succeeded: false, detail: "reverted")) == [
                .startWorkflow(machine: "w4")
            ])
        #expect(send(&r, .workflowFinished(machine: "w4", succeeded: true, detail: "ok")).isEmpty)
        #expect(r.status == .succeeded)
        #expect(r.reason?.contains("1 machine(s) failed") == true)
    }

    @Test func aCanaryThatFailsHaltsBeforeTouchingTheOthers() {
        var r = rollout()
        _ = send(&r, .start)
        #expect(send(&r, .workflowFinished(machine: "w1", succeeded: false, detail: "kernel reverted")).isEmpty)
        #expect(r.status == .halted)
        #expect(r.reason == "canary w1 failed: kernel reverted")
        #expect(r.targets.dropFirst().allSatisfy { $0.workflow == nil && $0.outcome == nil })
        #expect(send(&r, .resume).isEmpty)
    }

    @Test func failuresPastTheLimitHalt() {
        var r = rollout(canary: 0, batch: 2, maxFailures: 1)
        #expect(send(&r, .start).count == 2)
        _ = send(&r, .workflowFinished(machine: "w1", succeeded: false, detail: "a"))
        #expect(r.status == .running)
        _ = send(&r, .workflowFinished(machine: "w2", succeeded: false, detail: "b"))
        #expect(r.status == .halted)
        #expect(r.targets.suffix(2).allSatisfy { $0.workflow == nil })
    }

    @Test func aMachineThatCannotStartCountsAsAFailure() {
        var r = rollout()
        _ = send(&r, .start)
        _ = send(&r, .workflowStarted(machine: "w1", workflow: nil, reason: "machine w1 is held by workflow wf-x"))
        #expect(r.status == .halted)
        #expect(r.reason?.contains("held by workflow wf-x") == true)
    }

    @Test func pauseHoldsTheNextBatchAndResumeStartsIt() {
        var r = rollout()
        _ = send(&r, .start)
        _ = send(&r, .pause)
        #expect(send(&r, .workflowFinished(machine: "w1", succeeded: true, detail: "ok")).isEmpty)
        #expect(r.status == .paused)
        #expect(send(&r, .resume) == [.startWorkflow(machine: "w2"), .startWorkflow(machine: "w3")])
        _ = send(&r, .abort)
        #expect(r.status == .aborted)
        #expect(send(&r, .workflowFinished(machine: "w2", succeeded: true, detail: "ok")).isEmpty)
        #expect(send(&r, .resume).isEmpty)
    }

    @Test func badRequestsNameTheField() {
        #expect(throws: RolloutError.self) {
            try Rollout.validate(machines: [], canary: 1, batchSize: 1, maxFailures: 0)
        }
        let error = #expect(throws: RolloutError.self) {
            try Rollout.validate(machines: ["a"], canary: 1, batchSize: 0, maxFailures: 0)
        }
        #expect(error?.field == "batch")
    }
}
