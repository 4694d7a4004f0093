import Foundation
import GoldCore

public enum WorkflowKind: String, Hashable, Sendable, Codable, CaseIterable {
    case provision
    case restore
    case kernelUpgrade = "kernel-upgrade"
    case softwareUpdate = "software-update"
    /// Reboot into netboot, store the disks as a new image version, boot back from disk.
    case capture
}

/// A workflow's durable state: the director persists it after every transition, before any command runs.
public struct Workflow: Hashable, Sendable, Codable {
    public enum Status: String, Hashable, Sendable, Codable {
        case running, succeeded, failed, aborted
        /// Waiting for a person: see `intervention`.
        case intervention
    }

    public struct StepRun: Hashable, Sendable, Codable {
        public enum State: String, Hashable, Sendable, Codable { case pending, running, succeeded, failed }
        public var definition: StepDefinition
        public var state: State = .pending
        /// How many times the step was entered.
        public var attempts = 0
        /// Attempts before a person's retry: the retry budget counts from here, command ids keep counting.
        public var attemptBase = 0
        public var startedAt: Date?
        public var deadline: Date?
        public var finishedAt: Date?
        /// The command of the current attempt; results for any other id are stale and ignored.
        public var commandID: String?
        /// Whether the current attempt's action reported success (a step that also awaits keeps waiting).
        public var actionDone = false
        /// The last outcome, for people: "deadline passed after 90 s", the agent's error, …
        public var detail: String?
        public var progress: Double?

        public init(definition: StepDefinition) { self.definition = definition }
    }

    /// Why the workflow waits for a person, and what the person will want to see.
    public struct Intervention: Hashable, Sendable, Codable {
        public var step: String
        public var reason: String
        /// What Gold did by itself before asking ("power-cycled; the old kernel booted").
        public var recoveredBy: [String]
        /// What a person will want to see: the serial console's tail, the agent's logs, the boot servers' fetches.
        /// Filled by the director when the intervention opens.
        public var evidence: [String] = []
    }

    public var id: String
    public var kind: WorkflowKind
    public var machine: String
    public var status: Status
    public var steps: [StepRun]
    public var cursor: Int
    /// Recovery steps running after `recoveringFrom` failed for good; nil when not recovering.
    public var recovery: [StepRun]?
    public var recoveryCursor: Int
    public var recoveringFrom: Int?
    /// Recovery steps that ran to their end, oldest first: kept so people see what Gold did by itself.
    public var recovered: [StepRun]?
    public var intervention: Intervention?
    /// What steps learned for later steps: `image.version`, `kernel.release`, …
    public var context: [String: String]
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, kind: WorkflowKind, machine: String, steps: [StepDefinition], context: [String: String] = [:],
        now: Date
    ) {
        self.context = context
        self.id = id
        self.kind = kind
        self.machine = machine
        self.status = .running
        self.steps = steps.map(StepRun.init)
        self.cursor = 0
        self.recovery = nil
        self.recoveryCursor = 0
        self.recoveringFrom = nil
        self.intervention = nil
        self.createdAt = now
        self.updatedAt = now
    }

    /// The step running now (a recovery step while recovering).
    public var current: StepRun? {
        if let recovery { return recoveryCursor < recovery.count ? recovery[recoveryCursor] : nil }
        return cursor < steps.count ? steps[cursor] : nil
    }

    public var isFinished: Bool { [.succeeded, .failed, .aborted].contains(status) }

    /// Every step that ran or runs, in order: the runbook's, then recovery steps (finished ones, then current ones).
    public var allRuns: [StepRun] { steps + (recovered ?? []) + (recovery ?? []) }
}

/// A command the engine asks adapters to run. Its id names the workflow, step and attempt: one decision, one id.
public struct Command: Hashable, Sendable, Codable {
    public var id: String
    public var workflow: String
    public var machine: String
    public var step: String
    public var action: Action

    public init(id: String, workflow: String, machine: String, step: String, action: Action) {
        self.id = id
        self.workflow = workflow
        self.machine = machine
        self.step = step
        self.action = action
    }
}

/// What happens to a workflow.
public enum WorkflowEvent: Hashable, Sendable, Codable {
    case start
    /// A command finished. `.unknown` after a crash of the director while it ran.
    case completed(commandID: String, outcome: Outcome)
    case observed(Observation)
    /// Time passed: deadlines are checked.
    case tick
    case progress(commandID: String, fraction: Double, detail: String?)
    /// A person acts on an intervention.
    case retry, resolve, abort

    public enum Outcome: Hashable, Sendable, Codable {
        /// `outputs` join the workflow's context for later steps (e.g. `image.version`).
        case succeeded(detail: String? = nil, outputs: [String: String] = [:])
        case failed(reason: String)
        /// The command may or may not have run (the director died while it ran). Never run again for the
        /// same decision: a step that awaits an observation keeps waiting for it; others fail and may retry.
        case unknown
    }
}
