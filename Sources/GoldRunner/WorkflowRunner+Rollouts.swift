import Foundation
import GoldCore
import GoldWorkflow
import Logging

/// Rollouts: the pure `RolloutEngine` decides, the runner persists each transition and starts the workflows it asks for.
extension WorkflowRunner {
    public func startRollout(
        _ kind: WorkflowKind, selector: String, parameters: [String: String], canary: Int, batchSize: Int,
        maxFailures: Int, actor: String
    ) async throws -> Rollout {
        guard kind == .kernelUpgrade || kind == .softwareUpdate || kind == .restore else {
            throw GoldError(
                .invalidInput, "a rollout runs kernel-upgrade, software-update or restore, not \(kind.rawValue)",
                at: "kind")
        }
        let machines: [String]
        do {
            machines = try MachineSelector.select(
                selector, from: try await store.listMachines().map { ($0.name, $0.spec.role, $0.spec.profile) })
            try Rollout.validate(machines: machines, canary: canary, batchSize: batchSize, maxFailures: maxFailures)
        } catch let error as RolloutError {
            throw GoldError(.invalidInput, error.message, at: error.field)
        }
        let id =
            "ro-" + String(UInt64(clock().timeIntervalSince1970 * 1000), radix: 36) + "-"
            + String(UInt32.random(in: .min ... .max), radix: 36)
        let rollout = Rollout(
            id: id, kind: kind, parameters: parameters, selector: selector, machines: machines, canary: canary,
            batchSize: batchSize, maxFailures: maxFailures, now: clock())
        try await store.createRollout(rollout, actor: actor)
        return try await rolloutTransition(id, .start, actor: actor) ?? rollout
    }

    public func act(_ event: RolloutEvent, onRollout id: String, actor: String) async throws -> Rollout {
        guard let before = try await store.rollout(id: id) else {
            throw GoldError(.notFound, "no rollout '\(id)'", at: "path.id")
        }
        switch event {
        case .pause:
            guard before.status == .running else {
                throw GoldError(.conflict, "rollout \(id) is \(before.status.rawValue), not running")
            }
        case .resume:
            guard before.status == .paused else {
                throw GoldError(.conflict, "rollout \(id) is \(before.status.rawValue), not paused")
            }
        case .abort:
            guard !before.isFinished else {
                throw GoldError(.conflict, "rollout \(id) already \(before.status.rawValue)")
            }
        default: throw GoldError(.invalidInput, "a person may pause, resume or abort a rollout")
        }
        return try await rolloutTransition(id, event, actor: actor) ?? before
    }

    /// Reduces one rollout event, saves it, then starts the workflows it asked for (each start is itself an event).
    @discardableResult
    func rolloutTransition(_ id: String, _ event: RolloutEvent, actor: String) async throws -> Rollout? {
        let (rollout, commands) = try await rolloutLock.withLock { () async throws -> (Rollout?, [RolloutCommand]) in
            guard var rollout = try await self.store.rollout(id: id) else { return (nil, []) }
            let before = rollout
            let commands = RolloutEngine.reduce(&rollout, event, now: self.clock())
            var before2 = before
            before2.updatedAt = rollout.updatedAt
            if commands.isEmpty && before2 == rollout { return (rollout, []) }
            var events: [NewEvent] = []
            if before.status != rollout.status {
                events.append(
                    NewEvent(
                        actor: actor, kind: "rollout.\(rollout.status.rawValue)", machine: nil,
                        message: "rollout \(rollout.id) \(rollout.status.rawValue)"
                            + (rollout.reason.map { ": \($0)" } ?? "")))
            }
            if before.batch != rollout.batch && !rollout.isFinished {
                events.append(
                    NewEvent(
                        actor: actor, kind: "rollout.batch", machine: nil,
                        message:
                            "rollout \(rollout.id) batch \(rollout.batch + 1)/\(rollout.batchCount): \(commands.map { if case .startWorkflow(let m) = $0 { m } else { "" } }.joined(separator: ", "))"
                    ))
            }
            try await self.store.saveRollout(rollout, events: events)
            return (rollout, commands)
        }
        guard let rollout else { return nil }
        for command in commands {
            guard case .startWorkflow(let machine) = command else { continue }
            try await startTarget(rollout, machine)
        }
        return try await store.rollout(id: id)
    }

    /// Starts a target's workflow under an id of its own (`ROLLOUT.MACHINE`): after a restart, a workflow that was
    /// created but not yet recorded is found by that id, never started twice.
    func startTarget(_ rollout: Rollout, _ machine: String) async throws {
        let workflowID = "\(rollout.id).\(machine)"
        guard !starting.contains(workflowID) else { return }
        starting.insert(workflowID)
        defer { starting.remove(workflowID) }
        if try await store.workflow(id: workflowID) != nil {
            try await rolloutTransition(
                rollout.id, .workflowStarted(machine: machine, workflow: workflowID, reason: nil), actor: "director")
            return
        }
        do {
            let workflow = try await start(
                rollout.kind, machine: machine, parameters: rollout.parameters, actor: "rollout \(rollout.id)",
                id: workflowID)
            try await rolloutTransition(
                rollout.id, .workflowStarted(machine: machine, workflow: workflow.id, reason: nil), actor: "director")
        } catch {
            try await rolloutTransition(
                rollout.id, .workflowStarted(machine: machine, workflow: nil, reason: "\(error)"), actor: "director")
        }
    }

    /// Rollouts learn how their machines' workflows ended.
    func rolloutPass() async {
        do {
            for rollout in try await store.listRollouts(activeOnly: true, limit: 1000) {
                // After a restart: the current batch's machines whose start was decided but not recorded.
                if rollout.status == .running {
                    for target in rollout.targets
                    where target.batch == rollout.batch && target.workflow == nil && target.outcome == nil {
                        try await startTarget(rollout, target.machine)
                    }
                }
                for target in rollout.targets where target.outcome == nil {
                    guard let id = target.workflow, let workflow = try await store.workflow(id: id) else { continue }
                    switch workflow.status {
                    case .running: continue
                    case .succeeded:
                        try await rolloutTransition(
                            rollout.id,
                            .workflowFinished(machine: target.machine, succeeded: true, detail: "\(id) succeeded"),
                            actor: "director")
                    case .intervention, .failed, .aborted:
                        let why =
                            workflow.intervention.map { "\(id) waits for a person at '\($0.step)': \($0.reason)" }
                            ?? "\(id) \(workflow.status.rawValue)"
                        try await rolloutTransition(
                            rollout.id, .workflowFinished(machine: target.machine, succeeded: false, detail: why),
                            actor: "director")
                    }
                }
            }
        } catch {
            logger.error("rollout pass failed", metadata: ["error": "\(error)"])
        }
    }
}
