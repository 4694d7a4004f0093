/// One step of a workflow, as the runbook names it.
public struct StepDefinition: Hashable, Sendable, Codable {
    public var name: String
    public var action: Action
    /// Nil: the action's success completes the step. Otherwise the step waits for this observation.
    public var awaits: Awaited?
    /// How long the step may take, from entering it, before it fails.
    public var deadlineSeconds: Int
    /// How many more times the step may be entered after a failure. Only where a retry is safe.
    public var retries: Int
    /// What Gold does by itself when this step fails for good, before a person is asked.
    public var onFailure: FailurePlan?
    /// When the workflow's context holds this key, the step has nothing to do and is passed over (a power-cycle
    /// to bring back the old kernel is not needed when the machine already came back on it by itself).
    public var skipIf: String?

    public init(
        _ name: String, _ action: Action, awaits: Awaited? = nil, deadline: Int, retries: Int = 0,
        onFailure: FailurePlan? = nil,
        skipIf: String? = nil
    ) {
        self.skipIf = skipIf
        self.name = name
        self.action = action
        self.awaits = awaits
        self.deadlineSeconds = deadline
        self.retries = retries
        self.onFailure = onFailure
    }
}

/// Steps run when a step fails for good.
public struct FailurePlan: Hashable, Sendable, Codable {
    public var steps: [StepDefinition]
    /// `true`: another way to the same result (power-cycle into PXE again); when every step succeeds the workflow
    /// goes on. `false`: bring the machine back (old kernel, old binary), then ask a person.
    public var resumes: Bool

    /// Another way to the same result; the workflow goes on when it works.
    public static func fallback(_ steps: StepDefinition...) -> FailurePlan { FailurePlan(steps: steps, resumes: true) }
    /// Bring the machine back by itself, then open an intervention with what was done.
    public static func recover(_ steps: StepDefinition...) -> FailurePlan { FailurePlan(steps: steps, resumes: false) }
}
