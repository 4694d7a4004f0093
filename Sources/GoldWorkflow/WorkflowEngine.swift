import Foundation
import GoldCore

/// The workflow engine: a pure reducer `(state, event, now) → (state, [command])`.
///
/// Every command it returns has an id unique to one decision (workflow/step/attempt); the director persists the state
/// before it runs the commands, so after a crash no destructive command runs twice for one decision.
public enum WorkflowEngine {
    public static func reduce(_ workflow: inout Workflow, _ event: WorkflowEvent, now: Date) -> [Command] {
        defer { workflow.updatedAt = now }
        switch event {
        case .start:
            guard workflow.status == .running, workflow.current?.state == .pending else { return [] }
            return enter(&workflow, now: now)

        case .completed(let id, let outcome):
            guard workflow.status == .running, var step = workflow.current, step.state == .running, step.commandID == id else {
                return []
            }
            switch outcome {
            case .succeeded(let detail, let outputs):
                workflow.context.merge(outputs) { _, new in new }
                step.actionDone = true
                step.detail = detail
                update(&workflow, step)
                return step.definition.awaits == nil ? succeed(&workflow, now: now) : []
            case .failed(let reason):
                return fail(&workflow, reason: reason, now: now)
            case .unknown:
                if step.definition.awaits != nil {
                    step.actionDone = true
                    step.detail = "the director restarted while this ran; waiting for what the step awaits"
                    update(&workflow, step)
                    return []
                }
                return fail(&workflow, reason: "the director restarted while this ran; its outcome is unknown", now: now)
            }

        case .observed(let observation):
            guard workflow.status == .running, let step = workflow.current, step.state == .running,
                let awaited = step.definition.awaits, observation.satisfies(awaited)
            else { return [] }
            return succeed(&workflow, now: now)

        case .tick:
            guard workflow.status == .running, let step = workflow.current, step.state == .running,
                let deadline = step.deadline, now >= deadline
            else { return [] }
            return fail(&workflow, reason: "no \(what(step.definition)) within \(step.definition.deadlineSeconds) s", now: now)

        case .progress(let id, let fraction, let detail):
            guard var step = workflow.current, step.commandID == id else { return [] }
            step.progress = fraction
            if let detail { step.detail = detail }
            update(&workflow, step)
            return []

        case .retry:
            guard workflow.status == .intervention else { return [] }
            workflow.status = .running
            workflow.intervention = nil
            // Start the failed step afresh: a person decided, so it is a new decision with its own attempts.
            workflow.recovery = nil
            workflow.recoveringFrom = nil
            var step = workflow.steps[workflow.cursor]
            step.state = .pending
            step.attemptBase = step.attempts
            workflow.steps[workflow.cursor] = step
            return enter(&workflow, now: now)

        case .resolve:
            guard workflow.status == .intervention else { return [] }
            workflow.status = .running
            workflow.intervention = nil
            workflow.recovery = nil
            workflow.recoveringFrom = nil
            workflow.steps[workflow.cursor].state = .succeeded
            workflow.steps[workflow.cursor].detail = "resolved by a person"
            workflow.steps[workflow.cursor].finishedAt = now
            return advance(&workflow, now: now)

        case .abort:
            guard !workflow.isFinished else { return [] }
            workflow.status = .aborted
            return []
        }
    }

    // MARK: - transitions

    static func enter(_ workflow: inout Workflow, now: Date) -> [Command] {
        guard var step = workflow.current else { return [] }
        step.state = .running
        step.attempts += 1
        step.startedAt = now
        step.deadline = now.addingTimeInterval(TimeInterval(step.definition.deadlineSeconds))
        step.actionDone = false
        step.progress = nil
        let index = workflow.recovery == nil ? "\(workflow.cursor)" : "r\(workflow.recoveringFrom ?? 0).\(workflow.recoveryCursor)"
        // Dots, not slashes: the id travels in URL paths (/v1/agent/commands/ID/result).
        let id = "\(workflow.id).\(index).\(step.attempts)"
        step.commandID = id
        update(&workflow, step)
        if step.definition.action == .wait {
            // Nothing to run: the step only waits for its observation.
            return []
        }
        return [Command(id: id, workflow: workflow.id, machine: workflow.machine, step: step.definition.name,
            action: resolve(step.definition.action, context: workflow.context))]
    }

    static func succeed(_ workflow: inout Workflow, now: Date) -> [Command] {
        guard var step = workflow.current else { return [] }
        step.state = .succeeded
        step.finishedAt = now
        step.progress = 1
        update(&workflow, step)
        return advance(&workflow, now: now)
    }

    static func advance(_ workflow: inout Workflow, now: Date) -> [Command] {
        if let recovery = workflow.recovery {
            workflow.recoveryCursor += 1
            if workflow.recoveryCursor < recovery.count { return enter(&workflow, now: now) }
            let failed = workflow.steps[workflow.cursor]
            let names = recovery.map(\.definition.name)
            workflow.recovery = nil
            workflow.recoveringFrom = nil
            if failed.definition.onFailure?.resumes == true {
                // The other way worked: the step is done and the workflow goes on.
                workflow.steps[workflow.cursor].state = .succeeded
                workflow.steps[workflow.cursor].finishedAt = now
                workflow.steps[workflow.cursor].detail = "succeeded by: \(names.joined(separator: ", ")) (after: \(failed.detail ?? "failure"))"
                return advance(&workflow, now: now)
            }
            // Recovered by itself: now a person is asked, with what Gold did.
            return openIntervention(&workflow, reason: failed.detail ?? "failed", recoveredBy: names)
        }
        workflow.cursor += 1
        if workflow.cursor < workflow.steps.count { return enter(&workflow, now: now) }
        workflow.status = .succeeded
        return []
    }

    static func fail(_ workflow: inout Workflow, reason: String, now: Date) -> [Command] {
        guard var step = workflow.current else { return [] }
        step.detail = reason
        if step.attempts - step.attemptBase <= step.definition.retries {
            update(&workflow, step)
            return enter(&workflow, now: now)
        }
        step.state = .failed
        step.finishedAt = now
        update(&workflow, step)
        if workflow.recovery != nil {
            // A recovery step failed too: the machine could not bring itself back.
            let recoveredBy = (workflow.recovery ?? []).prefix(workflow.recoveryCursor).map(\.definition.name)
            workflow.recovery = nil
            workflow.recoveringFrom = nil
            return openIntervention(&workflow, reason: "\(workflow.steps[workflow.cursor].detail ?? "failed"); recovery step '\(step.definition.name)' failed too: \(reason)",
                recoveredBy: Array(recoveredBy))
        }
        if let plan = step.definition.onFailure, !plan.steps.isEmpty {
            workflow.recovery = plan.steps.map(Workflow.StepRun.init)
            workflow.recoveryCursor = 0
            workflow.recoveringFrom = workflow.cursor
            return enter(&workflow, now: now)
        }
        return openIntervention(&workflow, reason: reason, recoveredBy: [])
    }

    static func openIntervention(_ workflow: inout Workflow, reason: String, recoveredBy: [String]) -> [Command] {
        workflow.status = .intervention
        let failed = workflow.steps[workflow.cursor]
        workflow.intervention = Workflow.Intervention(step: failed.definition.name, reason: reason, recoveredBy: recoveredBy)
        return []
    }

    /// Fills what a step left open from what earlier steps learned: the image version this workflow built.
    static func resolve(_ action: Action, context: [String: String]) -> Action {
        if case .agent(.writeImage(nil)) = action, let version = context["image.version"].flatMap(Int.init) {
            return .agent(.writeImage(version: version))
        }
        return action
    }

    static func update(_ workflow: inout Workflow, _ step: Workflow.StepRun) {
        if workflow.recovery != nil {
            workflow.recovery![workflow.recoveryCursor] = step
        } else {
            workflow.steps[workflow.cursor] = step
        }
    }

    static func what(_ step: StepDefinition) -> String {
        switch step.awaits {
        case .bootFetch: "boot file fetch from the deploy server"
        case .netbootCheckIn: "check-in from the netboot environment"
        case .bootSuccess(let kernel): "boot success" + (kernel.map { " from kernel \($0)" } ?? "")
        case nil: "result of '\(step.name)'"
        }
    }
}
