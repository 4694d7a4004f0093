import Foundation
import GoldCore
import Testing

@testable import GoldWorkflow

/// Drives one workflow with a test clock, as the director would: every transition is encoded and decoded again
/// (what persisting does), and every command is recorded.
struct Drive {
    var workflow: Workflow
    var now = Date(timeIntervalSince1970: 1_800_000_000)
    var issued: [Command] = []

    init(_ kind: WorkflowKind, timings: StepTimings = StepTimings(), parameters: [String: String] = [:]) {
        workflow = Workflow(
            id: "wf-1", kind: kind, machine: "m1",
            steps: Runbook.steps(for: kind, timings: timings, parameters: parameters), now: now)
    }

    @discardableResult
    mutating func send(_ event: WorkflowEvent) -> [Command] {
        let commands = WorkflowEngine.reduce(&workflow, event, now: now)
        // Persisting is a JSON round trip: nothing may live outside the encoded state.
        workflow = try! JSONDecoder().decode(Workflow.self, from: JSONEncoder().encode(workflow))
        issued += commands
        return commands
    }

    mutating func advance(seconds: Int) -> [Command] {
        now = now.addingTimeInterval(TimeInterval(seconds))
        return send(.tick)
    }

    var step: String { workflow.current?.definition.name ?? "-" }
    var lastID: String { workflow.current?.commandID ?? "" }

    /// Completes the current step's command successfully (and its observation, when it awaits one).
    mutating func succeedCurrent(outputs: [String: String] = [:], observation: Observation? = nil) {
        let id = lastID
        if workflow.current?.definition.action != .wait {
            send(.completed(commandID: id, outcome: .succeeded(detail: nil, outputs: outputs)))
        }
        if let observation { send(.observed(observation)) }
    }
}

@Suite struct EngineTests {
    @Test func provisionRunsTheRunbookInOrder() {
        var d = Drive(.provision)
        d.send(.start)
        #expect(d.issued.map(\.action).first == .compile)
        d.succeedCurrent()
        #expect(d.step == "build the machine's image version")
        d.succeedCurrent(outputs: ["image.version": "3"])
        #expect(d.workflow.context["image.version"] == "3")
        d.succeedCurrent()  // mark provisioning
        d.succeedCurrent()  // set netboot once
        d.succeedCurrent()  // set the next boot to the network
        #expect(d.step == "power on or cycle into the netboot environment")
        // Power is on, but the step waits for the fetch, not for the power driver.
        d.send(.completed(commandID: d.lastID, outcome: .succeeded(detail: "on")))
        #expect(d.step == "power on or cycle into the netboot environment")
        d.send(.observed(.bootFetch(file: "undionly.kpxe")))
        #expect(d.step == "verify check-in from the netboot environment")
        // An unrelated observation does nothing.
        d.send(.observed(.bootSuccess(kernel: "6.1")))
        #expect(d.step == "verify check-in from the netboot environment")
        d.send(.observed(.netbootCheckIn))
        #expect(d.step == "write the image to the local disk")
        // The version the build step learned fills the write command.
        #expect(d.issued.last?.action == .agent(.writeImage(version: 3)))
        d.succeedCurrent()
        d.succeedCurrent()  // set boot to disk
        d.succeedCurrent(observation: .bootSuccess(kernel: "6.1.0-gold"))
        while d.workflow.status == .running { d.succeedCurrent() }
        #expect(d.workflow.status == .succeeded)
        #expect(d.issued.last?.action == .setState(.ready))
        #expect(d.workflow.steps.allSatisfy { $0.state == .succeeded && $0.attempts == 1 })
    }

    /// A machine's fleet entry overrides deadlines: its steps carry them, the others keep the defaults.
    @Test func machineDeadlinesOverrideTheDefaults() {
        let t = StepTimings().applying(DeadlineSpec(pxe: 45, pxeRetries: 1, imageWrite: 7200))
        let steps = Runbook.steps(for: .provision, timings: t)
        let pxe = steps.first { $0.name == "power on or cycle into the netboot environment" }
        #expect(pxe?.deadlineSeconds == 45 && pxe?.retries == 1)
        #expect(steps.first { $0.name == "write the image to the local disk" }?.deadlineSeconds == 7200)
        #expect(
            steps.first { $0.name == "verify check-in from the netboot environment" }?.deadlineSeconds
                == StepTimings().checkInSeconds)
        #expect(StepTimings().applying(nil) == StepTimings())
    }

    @Test func aMachineThatNeverFetchesIsPowerCycledThenLandsInInterventionsAndRetryFinishes() {
        var timings = StepTimings()
        timings.pxeSeconds = 90
        timings.pxeRetries = 2
        var d = Drive(.provision, timings: timings)
        d.send(.start)
        for _ in 0..<5 { d.succeedCurrent() }
        #expect(d.step == "power on or cycle into the netboot environment")
        // Not seen fetching by the PXE deadline: power-cycled again, twice, with a new command id each time.
        let first = d.advance(seconds: 91)
        #expect(first.map(\.action) == [.power(.onOrCycle)])
        let second = d.advance(seconds: 91)
        #expect(second.count == 1 && second[0].id != first[0].id)
        let third = d.advance(seconds: 91)
        #expect(third.isEmpty)
        #expect(d.workflow.status == .intervention)
        #expect(d.workflow.intervention?.reason == "no boot file fetch from the deploy server within 90 s")
        #expect(d.workflow.intervention?.step == "power on or cycle into the netboot environment")
        // Stale results of earlier attempts change nothing.
        d.send(.observed(.bootFetch(file: "late")))
        #expect(d.workflow.status == .intervention)
        // A person powers it on and says retry: the step starts afresh and the workflow finishes.
        let retried = d.send(.retry)
        #expect(retried.map(\.action) == [.power(.onOrCycle)])
        d.send(.observed(.bootFetch(file: "undionly.kpxe")))
        d.send(.observed(.netbootCheckIn))
        d.succeedCurrent()
        d.succeedCurrent()
        d.succeedCurrent(observation: .bootSuccess(kernel: "k"))
        while d.workflow.status == .running { d.succeedCurrent() }
        #expect(d.workflow.status == .succeeded)
    }

    /// Up to the trial boot: compile (reporting artifact and release), netboot, install, reboot to disk.
    static func upToTrialBoot() -> Drive {
        var d = Drive(.kernelUpgrade)
        d.send(.start)
        d.succeedCurrent(outputs: ["kernel.artifact": "k3y", "kernel.release": "6.1.192-gold-lab"])  // compile
        d.succeedCurrent()  // mark updating
        d.succeedCurrent()  // set netboot once
        d.succeedCurrent()  // reboot request acked
        d.send(.observed(.bootFetch(file: "ipxe.efi")))
        d.send(.observed(.netbootCheckIn))
        #expect(d.step == "copy the kernel files to the local disk; next boot only")
        #expect(d.issued.last?.action == .agent(.installKernel(artifact: "k3y")))
        d.succeedCurrent()
        d.succeedCurrent()  // set boot to disk
        d.succeedCurrent()  // boot back to local disk
        #expect(d.step == "boot success from the new kernel")
        return d
    }

    @Test func aKernelThatBootsIsPromoted() {
        var d = Self.upToTrialBoot()
        d.send(.observed(.bootSuccess(kernel: "6.1.192-gold-lab")))
        #expect(d.step == "promote the new kernel to the default")
        #expect(d.issued.last?.action == .agent(.promoteKernel(release: "6.1.192-gold-lab")))
    }

    @Test func aKernelThatPanicsComesBackOnTheOldOneByItselfThenAPersonIsAsked() {
        var d = Self.upToTrialBoot()
        // panic=10 rebooted the machine; GRUB's one-shot entry was spent, so the old kernel reports boot success.
        d.send(.observed(.bootSuccess(kernel: "6.1.0-old")))
        #expect(d.workflow.context["kernel.fellBack"] == "6.1.0-old")
        // No power-cycle: the machine is already back.
        #expect(!d.issued.contains { $0.action == .power(.cycle) })
        #expect(d.step == "collect the failed boot's logs")
        d.succeedCurrent(outputs: ["logs": "Kernel panic - not syncing: VFS: Unable to mount root fs"])
        #expect(d.issued.last?.action == .agent(.removeKernel(release: "6.1.192-gold-lab")))
        d.succeedCurrent()
        #expect(d.workflow.status == .intervention)
        #expect(
            d.workflow.intervention?.reason
                == "the machine came back on kernel 6.1.0-old, not 6.1.192-gold-lab: the new kernel did not boot")
        #expect(
            d.workflow.intervention?.recoveredBy == [
                "power-cycle: the old kernel boots by itself", "collect the failed boot's logs",
                "remove the bad kernel's entry",
            ])
        #expect(d.workflow.recovery == nil)
        #expect(!d.issued.contains { $0.action == .agent(.promoteKernel(release: "6.1.192-gold-lab")) })
    }

    @Test func aKernelThatHangsIsPowerCycledBackToTheOldOne() {
        var d = Self.upToTrialBoot()
        let recovery = d.advance(seconds: 601)
        #expect(recovery.map(\.action) == [.power(.cycle)])
        d.send(.completed(commandID: d.lastID, outcome: .succeeded()))
        #expect(d.step == "power-cycle: the old kernel boots by itself")
        d.send(.observed(.bootSuccess(kernel: "6.1.0-old")))
        #expect(d.step == "collect the failed boot's logs")
        d.succeedCurrent()
        d.succeedCurrent()
        #expect(d.workflow.status == .intervention)
        #expect(d.workflow.intervention?.reason == "no boot success from kernel 6.1.192-gold-lab within 600 s")
    }

    @Test func aStepWhosePlaceholderNoStepFilledFailsWithTheName() {
        var d = Drive(.kernelUpgrade)
        d.send(.start)
        d.succeedCurrent()  // compile reports nothing
        while d.step != "copy the kernel files to the local disk; next boot only" && d.workflow.status == .running {
            d.succeedCurrent(
                observation: d.workflow.current?.definition.awaits == .bootFetch
                    ? .bootFetch(file: "x")
                    : d.workflow.current?.definition.awaits == .netbootCheckIn ? .netbootCheckIn : nil)
        }
        #expect(d.workflow.status == .intervention)
        #expect(
            d.workflow.intervention?.reason.contains("needs kernel.artifact, which no earlier step produced") == true)
        #expect(!d.issued.contains { if case .agent(.installKernel) = $0.action { true } else { false } })
    }

    @Test func placeholdersFillFromTheContext() {
        #expect(WorkflowEngine.fill("{a}-{b}", context: ["a": "1", "b": "2"]) == "1-2")
        #expect(WorkflowEngine.fill("plain", context: [:]) == "plain")
        #expect(WorkflowEngine.fill("{missing}", context: [:]) == nil)
    }

    @Test func aFailedSoftwareCheckRestoresTheBackup() {
        var d = Drive(.softwareUpdate, parameters: ["binary": "hello"])
        d.send(.start)
        d.succeedCurrent(outputs: ["binary.hello.artifact": "b1n"])  // compile
        while d.step != "test on the machine" && d.workflow.status == .running { d.succeedCurrent() }
        #expect(d.issued.contains { $0.action == .agent(.replaceBinary(name: "hello", artifact: "b1n")) })
        d.send(.completed(commandID: d.lastID, outcome: .failed(reason: "check 'hello --version' exited 1")))
        #expect(d.issued.suffix(1).map(\.action) == [.agent(.restoreBinary(name: "hello"))])
        d.succeedCurrent()
        d.succeedCurrent()
        d.succeedCurrent()
        #expect(d.workflow.status == .intervention)
        #expect(d.workflow.intervention?.reason == "check 'hello --version' exited 1")
        #expect(d.workflow.intervention?.recoveredBy.first == "restore the backed-up binary")
    }

    @Test func aFallbackThatWorksLetsTheWorkflowGoOn() {
        var d = Drive(.restore)
        d.send(.start)
        d.succeedCurrent()  // mark updating
        d.succeedCurrent()  // set netboot once
        #expect(d.step == "send reboot request, wait for ack")
        d.send(.completed(commandID: d.lastID, outcome: .failed(reason: "the agent did not answer")))
        #expect(d.issued.last?.action == .power(.bootNetwork))
        d.succeedCurrent()
        #expect(d.issued.last?.action == .power(.cycle))
        d.send(.observed(.bootFetch(file: "undionly.kpxe")))
        // The power-cycle got it to PXE: the reboot step counts as done, and the fetch step is next.
        #expect(d.workflow.steps[2].state == .succeeded)
        #expect(d.step == "verify the machine fetches its boot files")
        #expect(d.workflow.status == .running)
    }

    @Test func unknownOutcomeNeverRunsTheDestructiveCommandAgainForTheSameDecision() {
        var d = Drive(.provision)
        d.send(.start)
        for _ in 0..<5 { d.succeedCurrent() }
        let powerID = d.lastID
        // The director died while the power command ran: it waits for the fetch, and issues nothing.
        #expect(d.send(.completed(commandID: powerID, outcome: .unknown)).isEmpty)
        #expect(d.step == "power on or cycle into the netboot environment")
        d.send(.observed(.bootFetch(file: "x")))
        d.send(.observed(.netbootCheckIn))
        let writeID = d.lastID
        // The image write's outcome is unknown: the step fails and its retry is a new decision with a new id.
        let again = d.send(.completed(commandID: writeID, outcome: .unknown))
        #expect(again.count == 1 && again[0].id != writeID)
        #expect(Set(d.issued.map(\.id)).count == d.issued.count)
    }

    /// A restart during a step that is safe to repeat (compile, image build, checks) runs it again instead of asking a
    /// person; the runs have distinct command ids.
    @Test func unknownOutcomeOfASafeStepRunsItAgain() {
        var d = Drive(.provision)
        d.send(.start)
        #expect(d.step == "compile the machine's kernel and binaries")
        let compileID = d.lastID
        let again = d.send(.completed(commandID: compileID, outcome: .unknown))
        #expect(again.map(\.action) == [.compile] && again[0].id != compileID)
        #expect(d.workflow.status == .running && d.step == "compile the machine's kernel and binaries")
        d.succeedCurrent()
        #expect(d.step == "build the machine's image version")
    }

    @Test func abortAndProgress() {
        var d = Drive(.restore)
        d.send(.start)
        d.send(.progress(commandID: d.lastID, fraction: 0.5, detail: "half"))
        #expect(d.workflow.current?.progress == 0.5)
        d.send(.abort)
        #expect(d.workflow.status == .aborted)
        #expect(d.send(.retry).isEmpty)
        #expect(d.send(.tick).isEmpty)
    }

    @Test func everyRunbookHasDeadlinesAndNamedSteps() {
        for kind in WorkflowKind.allCases {
            let steps = Runbook.steps(for: kind, parameters: ["kernel": "k", "binary": "b"])
            #expect(!steps.isEmpty)
            #expect(steps.allSatisfy { $0.deadlineSeconds > 0 && !$0.name.isEmpty })
            #expect(steps.last?.action == .setState(.ready))
        }
    }
}
