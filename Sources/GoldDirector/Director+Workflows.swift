import Foundation
import GoldAPI
import GoldCore
import GoldWorkflow
import Hummingbird

extension Workflow: ResponseEncodable {}
extension Command: ResponseEncodable {}
extension MachineSpec: ResponseEncodable {}

extension Rollout: ResponseEncodable {}

extension AgentCommandResult {
    /// What a workflow keeps of it: the context is saved at every step and read every second, so at most 64 outputs
    /// with names of 128 bytes, and values and the detail cut at 64 KiB (an agent's log tail fits; a flood does not).
    static let maxOutputs = 64
    static let maxText = 64 << 10

    func bounded() throws -> AgentCommandResult {
        var result = self
        if let outputs, outputs.count > Self.maxOutputs {
            throw GoldError(
                .invalidInput, "at most \(Self.maxOutputs) outputs, not \(outputs.count)", at: "body.outputs")
        }
        if let name = outputs?.keys.first(where: { $0.utf8.count > 128 || $0.isEmpty }) {
            throw GoldError(
                .invalidInput, "an output's name is 1 to 128 bytes, not \(name.utf8.count)", at: "body.outputs")
        }
        result.detail = detail.map(Self.cut)
        result.outputs = outputs?.mapValues(Self.cut)
        return result
    }

    static func cut(_ text: String) -> String {
        text.utf8.count <= maxText
            ? text : String(decoding: text.utf8.prefix(maxText), as: UTF8.self) + " … (cut at \(maxText) bytes)"
    }
}

extension Director {
    func requireWorkflows() throws -> any WorkflowControl {
        guard let workflows else { throw GoldError(.unavailable, "this director runs no workflows") }
        return workflows
    }

    func addWorkflowRoutes(_ router: Router<DirectorContext>) {
        router.post("/v1/workflows") { request, context -> EditedResponse<Workflow> in
            let identity = try context.require(.operate)
            let body: StartWorkflowRequest
            do { body = try await request.decode(as: StartWorkflowRequest.self, context: context) } catch {
                throw GoldError(
                    .invalidInput, "expected {\"kind\": …, \"machine\": …, \"parameters\": {…}}", at: "body")
            }
            guard let kind = WorkflowKind(rawValue: body.kind) else {
                throw GoldError(
                    .invalidInput,
                    "unknown workflow '\(body.kind)'; use one of: \(WorkflowKind.allCases.map(\.rawValue).joined(separator: ", "))",
                    at: "body.kind")
            }
            if let spec = body.parameters?["kernel.spec"] {
                // A one-off kernel for this upgrade: the fleet's kernel rules apply to it too.
                guard kind == .kernelUpgrade else {
                    throw GoldError(
                        .invalidInput, "only a kernel-upgrade takes a kernel spec", at: "body.parameters.kernel.spec")
                }
                guard let kernel = try? JSONDecoder().decode(KernelSpec.self, from: Data(spec.utf8)) else {
                    throw GoldError(
                        .invalidInput,
                        "not a kernel spec: expected {\"source\", \"base\", \"fragments\", \"localVersion\"}",
                        at: "body.parameters.kernel.spec")
                }
                if let (field, message) = FleetValidator.kernelProblems(kernel).first {
                    throw GoldError(.invalidInput, message, at: "body.parameters.kernel.spec.\(field)")
                }
            }
            let workflow = try await requireWorkflows().start(
                kind, machine: body.machine, parameters: body.parameters ?? [:], actor: identity.actor)
            return EditedResponse(status: .created, response: workflow)
        }
        router.get("/v1/workflows") { request, context -> [Workflow] in
            _ = try context.require(.read)
            let query = request.uri.queryParameters
            let limit = Int(try query.int64("limit") ?? 100)
            return try await workflowStore().listWorkflows(
                machine: query.get("machine"), activeOnly: try query.bool("active") ?? false, limit: limit)
        }
        router.get("/v1/workflows/{id}") { _, context -> Workflow in
            _ = try context.require(.read)
            let id = try context.parameters.require("id")
            guard let workflow = try await workflowStore().workflow(id: id) else {
                throw GoldError(.notFound, "no workflow '\(id)'", at: "path.id")
            }
            return workflow
        }
        for (verb, event) in [("retry", WorkflowEvent.retry), ("resolve", .resolve), ("abort", .abort)] {
            router.post("/v1/workflows/{id}/\(verb)") { _, context -> Workflow in
                let identity = try context.require(.operate)
                return try await requireWorkflows().act(
                    event, on: try context.parameters.require("id"), actor: identity.actor)
            }
        }
        router.post("/v1/rollouts") { request, context -> EditedResponse<Rollout> in
            let identity = try context.require(.operate)
            let body: StartRolloutRequest
            do { body = try await request.decode(as: StartRolloutRequest.self, context: context) } catch {
                throw GoldError(
                    .invalidInput,
                    "expected {\"kind\": …, \"select\": \"role=web\", \"canary\": 1, \"batch\": 2, \"max_failures\": 1, \"parameters\": {…}}",
                    at: "body")
            }
            guard let kind = WorkflowKind(rawValue: body.kind) else {
                throw GoldError(
                    .invalidInput,
                    "unknown workflow '\(body.kind)'; a rollout runs kernel-upgrade, software-update or restore",
                    at: "body.kind")
            }
            let rollout = try await requireWorkflows().startRollout(
                kind, selector: body.select, parameters: body.parameters ?? [:],
                canary: body.canary ?? 1, batchSize: body.batch ?? 1, maxFailures: body.maxFailures ?? 0,
                actor: identity.actor)
            return EditedResponse(status: .created, response: rollout)
        }
        router.get("/v1/rollouts") { request, context -> [Rollout] in
            _ = try context.require(.read)
            return try await workflowStore().listRollouts(
                activeOnly: try request.uri.queryParameters.bool("active") ?? false, limit: 100)
        }
        router.get("/v1/rollouts/{id}") { _, context -> Rollout in
            _ = try context.require(.read)
            let id = try context.parameters.require("id")
            guard let rollout = try await workflowStore().rollout(id: id) else {
                throw GoldError(.notFound, "no rollout '\(id)'", at: "path.id")
            }
            return rollout
        }
        for (verb, event) in [("pause", RolloutEvent.pause), ("resume", .resume), ("abort", .abort)] {
            router.post("/v1/rollouts/{id}/\(verb)") { _, context -> Rollout in
                let identity = try context.require(.operate)
                return try await requireWorkflows().act(
                    event, onRollout: try context.parameters.require("id"), actor: identity.actor)
            }
        }
        router.get("/v1/interventions") { _, context -> [Workflow] in
            _ = try context.require(.read)
            return try await workflowStore().listWorkflows(machine: nil, activeOnly: true, limit: 10_000).filter {
                $0.status == .intervention
            }
        }

        /// The agent's queue: `?machine=NAME&wait=SECONDS` long-polls until a command is waiting.
        router.get("/v1/agent/commands") { request, context -> [Command] in
            let query = request.uri.queryParameters
            guard let machine = query.get("machine"), !machine.isEmpty else {
                throw GoldError(.invalidInput, "'machine' is required", at: "query.machine")
            }
            _ = try context.require(.machineReport(machine))
            let wait = min(try query.int64("wait") ?? 0, 60)
            return try await requireWorkflows().nextAgentCommands(machine: machine, wait: .seconds(wait))
        }
        router.post("/v1/agent/commands/{id}/result") { request, context -> Response in
            try context.requireSomeToken()
            let decoded: AgentCommandResult
            do { decoded = try await request.decode(as: AgentCommandResult.self, context: context) } catch {
                throw GoldError(
                    .invalidInput, "expected {\"machine\": …, \"ok\": true|false, \"detail\": …, \"outputs\": {…}}",
                    at: "body")
            }
            let identity = try context.require(.machineReport(decoded.machine))
            let body = try decoded.bounded()
            let outcome: WorkflowEvent.Outcome =
                body.ok
                ? .succeeded(detail: body.detail, outputs: body.outputs ?? [:])
                : .failed(reason: body.detail ?? "the agent reported a failure")
            try await requireWorkflows().complete(
                command: try context.parameters.require("id"), machine: body.machine, outcome: outcome,
                actor: identity.actor)
            return Response(status: .noContent)
        }
        router.post("/v1/agent/commands/{id}/progress") { request, context -> Response in
            try context.requireSomeToken()
            let body: AgentCommandProgress
            do { body = try await request.decode(as: AgentCommandProgress.self, context: context) } catch {
                throw GoldError(
                    .invalidInput, "expected {\"machine\": …, \"fraction\": 0.5, \"detail\": …}", at: "body")
            }
            _ = try context.require(.machineReport(body.machine))
            guard (0...1).contains(body.fraction) else {
                throw GoldError(.invalidInput, "fraction must be 0…1", at: "body.fraction")
            }
            // A progress line, not a log: it is saved with the workflow at every report.
            try await requireWorkflows().progress(
                command: try context.parameters.require("id"), machine: body.machine,
                fraction: body.fraction,
                detail: body.detail.map { String(decoding: $0.utf8.prefix(1024), as: UTF8.self) })
            return Response(status: .noContent)
        }
        router.get("/v1/agent/spec") { request, context -> MachineSpec in
            guard let machine = request.uri.queryParameters.get("machine") else {
                throw GoldError(.invalidInput, "'machine' is required", at: "query.machine")
            }
            _ = try context.require(.machineReport(machine))
            guard let record = try await store.machine(named: machine) else {
                throw GoldError(.notFound, "no machine named '\(machine)'")
            }
            return record.spec
        }
        /// The installed agent's unit after `boot-complete.target`: this boot, with this kernel, made it through.
        router.post("/v1/machines/{name}/boot-success") { request, context -> Response in
            let name = try context.parameters.require("name")
            let identity = try context.require(.machineReport(name))
            let body: BootSuccess
            do { body = try await request.decode(as: BootSuccess.self, context: context) } catch {
                throw GoldError(.invalidInput, "expected {\"kernel\": \"6.1.0-…\"}", at: "body")
            }
            guard try await store.machine(named: name) != nil else {
                throw GoldError(.notFound, "no machine named '\(name)'", at: "path.name")
            }
            // A kernel release is a short name (`uname -r`); an 8 MiB one would be read back 1,000 events at a time.
            guard (1...128).contains(body.kernel.utf8.count),
                !body.kernel.contains(where: { $0.isNewline || $0.isWhitespace })
            else {
                throw GoldError(
                    .invalidInput, "kernel must be a release name of 1 to 128 characters without blanks",
                    at: "body.kernel")
            }
            try await store.appendEvent(
                NewEvent(
                    actor: identity.actor, kind: "machine.boot.success", machine: name,
                    message: "boot success with kernel \(body.kernel)", data: .object(["kernel": .string(body.kernel)]))
            )
            return Response(status: .noContent)
        }
    }

    func workflowStore() throws -> any WorkflowStore {
        guard let store = workflowStoreBase else {
            throw GoldError(.unavailable, "this director's store keeps no workflows")
        }
        return store
    }
}
