import Foundation

/// A fleet rollout: one workflow kind (kernel upgrade, software update) over many machines, a canary first, then
/// batches; it halts when the canary fails or failures pass the limit. A machine whose workflow ends anywhere but
/// `succeeded` (an intervention after a revert, a failure, an abort) counts as a failure.
public struct Rollout: Hashable, Sendable, Codable {
    public enum Status: String, Hashable, Sendable, Codable { case running, paused, halted, succeeded, aborted }

    public struct Target: Hashable, Sendable, Codable {
        public enum Outcome: String, Hashable, Sendable, Codable { case succeeded, failed }
        public var machine: String
        /// 0 is the canary batch.
        public var batch: Int
        public var workflow: String?
        public var outcome: Outcome?
        public var detail: String?
    }

    public var id: String
    public var kind: WorkflowKind
    public var parameters: [String: String]
    /// How the machines were chosen (`role=web`), for people.
    public var selector: String
    public var canary: Int
    public var batchSize: Int
    public var maxFailures: Int
    public var status: Status
    public var targets: [Target]
    /// The batch whose workflows run (or ran last).
    public var batch: Int
    public var reason: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, kind: WorkflowKind, parameters: [String: String], selector: String, machines: [String],
        canary: Int, batchSize: Int, maxFailures: Int, now: Date
    ) {
        self.id = id
        self.kind = kind
        self.parameters = parameters
        self.selector = selector
        self.canary = canary
        self.batchSize = batchSize
        self.maxFailures = maxFailures
        self.status = .running
        self.batch = -1
        self.createdAt = now
        self.updatedAt = now
        let canaries = min(max(canary, 0), machines.count)
        targets = machines.enumerated().map { index, machine in
            Target(machine: machine, batch: index < canaries ? 0 : 1 + (index - canaries) / max(batchSize, 1))
        }
        if canaries == 0 {
            targets = targets.map {
                var t = $0
                t.batch -= 1
                return t
            }
        }
    }

    public var failures: Int { targets.filter { $0.outcome == .failed }.count }
    public var batchCount: Int { (targets.map(\.batch).max() ?? -1) + 1 }
    public var isFinished: Bool { [.halted, .succeeded, .aborted].contains(status) }

    /// Checks what a person asked for before anything is stored.
    public static func validate(machines: [String], canary: Int, batchSize: Int, maxFailures: Int) throws {
        guard !machines.isEmpty else { throw RolloutError("the selector matches no machine", field: "select") }
        guard canary >= 0 else { throw RolloutError("canary must be 0 or more", field: "canary") }
        guard batchSize >= 1 else { throw RolloutError("batch must be 1 or more", field: "batch") }
        guard maxFailures >= 0 else { throw RolloutError("max-failures must be 0 or more", field: "max_failures") }
        guard Set(machines).count == machines.count else {
            throw RolloutError("a machine is listed twice", field: "select")
        }
    }
}

public struct RolloutError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var field: String
    public init(_ message: String, field: String) {
        self.message = message
        self.field = field
    }
    public var description: String { "\(field): \(message)" }
}

public enum RolloutEvent: Hashable, Sendable, Codable {
    case start
    /// The runner started the machine's workflow (or could not: `workflow` nil and a reason).
    case workflowStarted(machine: String, workflow: String?, reason: String?)
    case workflowFinished(machine: String, succeeded: Bool, detail: String)
    case pause, resume, abort
}

public enum RolloutCommand: Hashable, Sendable, Codable {
    case startWorkflow(machine: String)
}

/// The rollout's pure reducer.
public enum RolloutEngine {
    public static func reduce(_ rollout: inout Rollout, _ event: RolloutEvent, now: Date) -> [RolloutCommand] {
        defer { rollout.updatedAt = now }
        switch event {
        case .start:
            guard rollout.status == .running, rollout.batch == -1 else { return [] }
            return next(&rollout)
        case .workflowStarted(let machine, let workflow, let reason):
            guard let index = rollout.targets.firstIndex(where: { $0.machine == machine }) else { return [] }
            if let workflow {
                rollout.targets[index].workflow = workflow
                return []
            }
            return finish(&rollout, index, succeeded: false, detail: reason ?? "could not start")
        case .workflowFinished(let machine, let succeeded, let detail):
            guard let index = rollout.targets.firstIndex(where: { $0.machine == machine }),
                rollout.targets[index].outcome == nil
            else { return [] }
            return finish(&rollout, index, succeeded: succeeded, detail: detail)
        case .pause:
            guard rollout.status == .running else { return [] }
            rollout.status = .paused
            return []
        case .resume:
            guard rollout.status == .paused else { return [] }
            rollout.status = .running
            return batchDone(rollout) ? next(&rollout) : []
        case .abort:
            guard !rollout.isFinished else { return [] }
            rollout.status = .aborted
            rollout.reason = "aborted by a person"
            return []
        }
    }

    static func finish(_ rollout: inout Rollout, _ index: Int, succeeded: Bool, detail: String) -> [RolloutCommand] {
        rollout.targets[index].outcome = succeeded ? .succeeded : .failed
        rollout.targets[index].detail = detail
        guard rollout.status == .running || rollout.status == .paused else { return [] }
        if !succeeded && rollout.targets[index].batch == 0 && rollout.canary > 0 {
            rollout.status = .halted
            rollout.reason = "canary \(rollout.targets[index].machine) failed: \(detail)"
            return []
        }
        if rollout.failures > rollout.maxFailures {
            rollout.status = .halted
            rollout.reason =
                "\(rollout.failures) failures, more than the \(rollout.maxFailures) allowed; last: \(rollout.targets[index].machine): \(detail)"
            return []
        }
        guard rollout.status == .running, batchDone(rollout) else { return [] }
        return next(&rollout)
    }

    static func batchDone(_ rollout: Rollout) -> Bool {
        rollout.targets.filter { $0.batch == rollout.batch }.allSatisfy { $0.outcome != nil }
    }

    /// Starts the next batch, or ends the rollout when none is left.
    static func next(_ rollout: inout Rollout) -> [RolloutCommand] {
        rollout.batch += 1
        guard rollout.batch < rollout.batchCount else {
            rollout.status = .succeeded
            rollout.reason =
                rollout.failures == 0
                ? nil : "\(rollout.failures) machine(s) failed, within the \(rollout.maxFailures) allowed"
            return []
        }
        return rollout.targets.filter { $0.batch == rollout.batch }.map { .startWorkflow(machine: $0.machine) }
    }
}
