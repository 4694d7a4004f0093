import Foundation
import GoldCore
import Testing

@testable import GoldWorkflow

/// `gold image capture`: into netboot with the agent's ack, capture, back to the disk.
@Suite struct CaptureWorkflowTests {
    @Test func theStepsReadAsTheRunbook() {
        let steps = Runbook.steps(for: .capture)
        #expect(
            steps.map(\.name) == [
                "mark updating",
                "set netboot once",
                "send reboot request, wait for ack",
                "verify the machine fetches its boot files",
                "verify check-in from the netboot environment",
                "capture the disks as a new image version",
                "set boot to disk",
                "reboot from the local disk",
                "ready",
            ])
        // The same way into netboot as a restore: the agent acks a netboot reboot, a power-cycle is the fallback.
        #expect(Array(steps[1...4]) == Runbook.intoNetboot(StepTimings(), viaAgent: true))
        #expect(steps[2].action == .agent(.reboot(netboot: true)))
        #expect(steps[5].action == .agent(.captureImage) && steps[5].retries == 1 && steps[5].awaits == nil)
        #expect(steps[7].awaits == .bootSuccess(kernel: nil) && steps[7].onFailure?.resumes == true)
        #expect(!AgentRequest.captureImage.isDestructive)
        #expect(WorkflowKind(rawValue: "capture") == .capture)
    }

    @Test func aCaptureRunsToReadyAndKeepsTheVersion() {
        var d = Drive(.capture)
        d.send(.start)
        d.succeedCurrent()  // mark updating
        d.succeedCurrent()  // set netboot once
        #expect(d.issued.last?.action == .agent(.reboot(netboot: true)))
        d.succeedCurrent()  // ack
        d.succeedCurrent(observation: .bootFetch(file: "undionly.kpxe"))
        d.succeedCurrent(observation: .netbootCheckIn)
        #expect(d.issued.last?.action == .agent(.captureImage))
        d.send(.progress(commandID: d.lastID, fraction: 0.4, detail: "/dev/vda: 800 of 2048 MiB read"))
        #expect(d.workflow.current?.progress == 0.4)
        d.succeedCurrent(outputs: ["image.version": "7", "image.captured": "7"])
        #expect(d.workflow.context["image.captured"] == "7")
        #expect(d.issued.last?.action == .power(.bootDisk))
        d.succeedCurrent()
        #expect(d.issued.last?.action == .agent(.reboot(netboot: false)))
        d.succeedCurrent(observation: .bootSuccess(kernel: "6.1.0-28-amd64"))
        #expect(d.issued.last?.action == .setState(.ready))
        d.succeedCurrent()
        #expect(d.workflow.status == .succeeded)
    }

    @Test func aCaptureThatFailsTwiceAsksAPersonWithTheMachineStillInNetboot() {
        var d = Drive(.capture)
        d.send(.start)
        while d.step != "capture the disks as a new image version" && d.workflow.status == .running {
            let awaited = d.workflow.current?.definition.awaits
            d.succeedCurrent(
                observation: awaited == .bootFetch
                    ? .bootFetch(file: "x") : awaited == .netbootCheckIn ? .netbootCheckIn : nil)
        }
        let first = d.lastID
        d.send(.completed(commandID: first, outcome: .failed(reason: "1 chunk is not in the store")))
        #expect(d.issued.last?.action == .agent(.captureImage) && d.lastID != first)
        d.send(.completed(commandID: d.lastID, outcome: .failed(reason: "reading /dev/vda at 4096: I/O error")))
        #expect(d.workflow.status == .intervention)
        #expect(d.workflow.intervention?.reason == "reading /dev/vda at 4096: I/O error")
        #expect(!d.issued.contains { $0.action == .power(.bootDisk) })
    }
}
