import Foundation
import GoldWorkflow
import Testing

@testable import GoldCLI

@Suite struct StepPrinterTests {
    @Test func aLongStepShowsItsDetailAtMostEveryInterval() throws {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var workflow = Workflow(
            id: "wf-1", kind: .kernelUpgrade, machine: "m1", steps: Runbook.steps(for: .kernelUpgrade), now: start)
        var printer = StepPrinter()
        #expect(printer.due(workflow, now: start).isEmpty)  // every step pending

        workflow.steps[0].state = .running
        workflow.steps[0].attempts = 1
        workflow.steps[0].progress = 0.5
        workflow.steps[0].detail = "kernel 3f2a: queued"
        #expect(printer.due(workflow, now: start).map(\.index) == [0])
        // The clock alone, or the same detail, prints nothing.
        #expect(printer.due(workflow, now: start + 60).isEmpty)
        // A new detail within the interval waits; after it, one line.
        workflow.steps[0].detail = "kernel 3f2a: progress 10/1000 objects (1%)"
        #expect(printer.due(workflow, now: start + 10).isEmpty)
        #expect(printer.due(workflow, now: start + 30).map(\.index) == [0])
        workflow.steps[0].detail = "kernel 3f2a: progress 20/1000 objects (2%)"
        #expect(printer.due(workflow, now: start + 40).isEmpty)
        // Progress crossing a 10% step, or a new state, prints at once.
        workflow.steps[0].progress = 0.6
        #expect(printer.due(workflow, now: start + 41).map(\.index) == [0])
        workflow.steps[0].state = .succeeded
        #expect(printer.due(workflow, now: start + 42).map(\.index) == [0])
        // A finished step's later detail changes print nothing.
        workflow.steps[0].detail = "built in 300 s"
        #expect(printer.due(workflow, now: start + 500).isEmpty)
    }
}
