import Foundation
import GoldAPI
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
            guard workflow.status == .running, var step = workflow.current, step.state == .running, step.commandID == id
            else {
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
                if !step.definition.action.isDestructive {
                    // Safe to run again (a cached compile, an image build, a check, a state change): run it again,
                    // as a new command, rather than asking a person about a restart.
                    step.detail = "the director restarted while this ran; running it again"
                    update(&workflow, step)
                    return enter(&workflow, now: now)
                }
                return fail(
                    &workflow, reason: "the director restarted while this ran; its outcome is unknown", now: now)
            }

        case .observed(let observation):
            guard workflow.status == .running, let step = workflow.current, step.state == .running,
                let awaited = step.definition.awaits.map({ fill($0, context: workflow.context) })
            else { return [] }
            if observation.satisfies(awaited) { return succeed(&workflow, now: now) }
            if let other = observation.contradicts(awaited), step.actionDone || step.definition.action == .wait {
                // The trial kernel did not make it: GRUB's one-shot entry is spent and the default booted again.
                workflow.context["kernel.fellBack"] = other
                return fail(
                    &workflow,
                    reason:
                        "the machine came back on kernel \(other), not \(Self.kernelName(awaited)): the new kernel did not boot",
                    now: now)
            }
            return []

        case .tick:
            guard workflow.status == .running, let step = workflow.current, step.state == .running,
                let deadline = step.deadline, now >= deadline
            else { return [] }
            return fail(
                &workflow,
                reason:
                    "no \(what(step.definition, context: workflow.context)) within \(step.definition.deadlineSeconds) s",
                now: now)

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
        if let key = step.definition.skipIf, let value = workflow.context[key] {
            step.state = .succeeded
            step.startedAt = now
            step.finishedAt = now
            step.detail = "not needed: \(key) = \(value)"
            update(&workflow, step)
            return advance(&workflow, now: now)
        }
        step.state = .running
        step.attempts += 1
        step.startedAt = now
        step.deadline = now.addingTimeInterval(TimeInterval(step.definition.deadlineSeconds))
        step.actionDone = false
        step.progress = nil
        let index =
            workflow.recovery == nil
            ? "\(workflow.cursor)" : "r\(workflow.recoveringFrom ?? 0).\(workflow.recoveryCursor)"
        // Dots, not slashes: the id travels in URL paths (/v1/agent/commands/ID/result).
        let id = "\(workflow.id).\(index).\(step.attempts)"
        step.commandID = id
        update(&workflow, step)
        if step.definition.action == .wait {
            // Nothing to run: the step only waits for its observation.
            return []
        }
        guard let action = resolve(step.definition.action, context: workflow.context) else {
            return fail(
                &workflow,
                reason:
                    "'\(step.definition.name)' needs \(placeholders(in: step.definition.action).joined(separator: ", ")), which no earlier step produced",
                now: now)
        }
        return [
            Command(
                id: id, workflow: workflow.id, machine: workflow.machine, step: step.definition.name, action: action)
        ]
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
            retireRecovery(&workflow)
            if failed.definition.onFailure?.resumes == true {
                // The other way worked: the step is done and the workflow goes on.
                workflow.steps[workflow.cursor].state = .succeeded
                workflow.steps[workflow.cursor].finishedAt = now
                workflow.steps[workflow.cursor].detail =
                    "succeeded by: \(names.joined(separator: ", ")) (after: \(failed.detail ?? "failure"))"
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
            retireRecovery(&workflow)
            return openIntervention(
                &workflow,
                reason:
                    "\(workflow.steps[workflow.cursor].detail ?? "failed"); recovery step '\(step.definition.name)' failed too: \(reason)",
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

    /// The recovery's runs join the record of what was done; the workflow is no longer recovering.
    static func retireRecovery(_ workflow: inout Workflow) {
        workflow.recovered = (workflow.recovered ?? []) + (workflow.recovery ?? [])
        workflow.recovery = nil
        workflow.recoveringFrom = nil
    }

    static func openIntervention(_ workflow: inout Workflow, reason: String, recoveredBy: [String]) -> [Command] {
        workflow.status = .intervention
        let failed = workflow.steps[workflow.cursor]
        workflow.intervention = Workflow.Intervention(
            step: failed.definition.name, reason: reason, recoveredBy: recoveredBy)
        return []
    }

    /// Fills what a step left open from what earlier steps learned: the image version this workflow built, the
    /// kernel artifact and release the compile step produced (`{kernel.release}`). Nil when something is missing.
    static func resolve(_ action: Action, context: [String: String]) -> Action? {
        guard case .agent(let request) = action else { return action }
        func f(_ text: String) -> String? { fill(text, context: context) }
        switch request {
        case .writeImage(nil):
            guard let version = context[ContextKey.imageVersion].flatMap(Int.init) else { return action }
            return .agent(.writeImage(version: version))
        case .installKernel(let artifact): return f(artifact).map { .agent(.installKernel(artifact: $0)) }
        case .promoteKernel(let release): return f(release).map { .agent(.promoteKernel(release: $0)) }
        case .removeKernel(let release): return f(release).map { .agent(.removeKernel(release: $0)) }
        case .replaceBinary(let name, let artifact):
            return f(artifact).map { .agent(.replaceBinary(name: name, artifact: $0)) }
        default: return action
        }
    }

    /// `{key}` placeholders replaced by the context's values; nil when one has no value.
    static func fill(_ text: String, context: [String: String]) -> String? {
        var out = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open]
            guard let value = context[String(rest[rest.index(after: open)..<close])] else { return nil }
            out += value
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    static func fill(_ awaited: Awaited, context: [String: String]) -> Awaited {
        if case .bootSuccess(let kernel?) = awaited {
            return .bootSuccess(kernel: fill(kernel, context: context) ?? kernel)
        }
        return awaited
    }

    static func placeholders(in action: Action) -> [String] {
        let text = "\(action)"
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            names.append(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    static func kernelName(_ awaited: Awaited) -> String {
        if case .bootSuccess(let kernel?) = awaited { return kernel }
        return "the new kernel"
    }

    static func update(_ workflow: inout Workflow, _ step: Workflow.StepRun) {
        if workflow.recovery != nil {
            workflow.recovery![workflow.recoveryCursor] = step
        } else {
            workflow.steps[workflow.cursor] = step
        }
    }

    static func what(_ step: StepDefinition, context: [String: String]) -> String {
        switch step.awaits.map({ fill($0, context: context) }) {
        case .bootFetch: "boot file fetch from the deploy server"
        case .netbootCheckIn: "check-in from the netboot environment"
        case .bootSuccess(let kernel): "boot success" + (kernel.map { " from kernel \($0)" } ?? "")
        case nil: "result of '\(step.name)'"
        }
    }
}
