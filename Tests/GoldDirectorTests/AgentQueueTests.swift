import Foundation
import GoldCore
import GoldHTTPClient
import GoldRunner
import GoldWorkflow
import Testing

/// Side effects that always succeed, for driving workflows through the API.
struct SucceedingActions: MachineActions {
    func execute(_ action: Action, machine: MachineRecord, workflow: Workflow) async -> WorkflowEvent.Outcome {
        .succeeded(detail: "ok")
    }
    func evidence(machine: MachineRecord) async -> [String] { [] }
}

@Suite(.serialized) struct AgentQueueTests {
    /// `gold kernel upgrade --kernel SPEC`: a bad spec is refused naming the field; nothing starts.
    @Test func aKernelSpecIsValidatedBeforeTheUpgradeStarts() async throws {
        try await DirectorHarness.with(actions: SucceedingActions()) { (d: DirectorHarness) async throws in
            let badFragment =
                #"{"kind":"kernel-upgrade","machine":"web-01","parameters":{"kernel.spec":"{\"source\":\"debian:linux-source-6.1\",\"base\":\"tinyconfig\",\"fragments\":[\"VIRTIO=y\"]}"}}"#
            let refused = try await d.call("POST", "/v1/workflows", as: "operator", body: badFragment)
            #expect(
                refused.status == 400 && refused.text.contains("body.parameters.kernel.spec.fragments[0]"),
                "\(refused.text)")
            let notASpec = try await d.call(
                "POST", "/v1/workflows", as: "operator",
                body: #"{"kind":"kernel-upgrade","machine":"web-01","parameters":{"kernel.spec":"linux"}}"#)
            #expect(notASpec.status == 400 && notASpec.text.contains("body.parameters.kernel.spec"), "\(notASpec.text)")
            let wrongKind = try await d.call(
                "POST", "/v1/workflows", as: "operator",
                body: #"{"kind":"restore","machine":"web-01","parameters":{"kernel.spec":"{}"}}"#)
            #expect(wrongKind.status == 400 && wrongKind.text.contains("only a kernel-upgrade"), "\(wrongKind.text)")
            #expect(try await d.call("GET", "/v1/workflows?machine=web-01", as: "viewer").text == "[]")
            let good =
                #"{"kind":"kernel-upgrade","machine":"web-01","parameters":{"kernel.spec":"{\"source\":\"debian:linux-source-6.1\",\"base\":\"tinyconfig\",\"fragments\":[\"CONFIG_VIRTIO_BLK=y\"],\"localVersion\":\"-v2\"}"}}"#
            let started = try await d.call("POST", "/v1/workflows", as: "operator", body: good)
            #expect(started.status == 201 && started.text.contains("kernel.spec"), "\(started.text)")
        }
    }

    @Test func theAgentTakesItsCommandAndReportsThroughTheAPI() async throws {
        try await DirectorHarness.with(actions: SucceedingActions()) { (d: DirectorHarness) async throws in
            let started = try await d.call(
                "POST", "/v1/workflows", as: "operator", body: #"{"kind":"restore","machine":"web-01"}"#)
            #expect(started.status == 201, "\(started.text)")
            struct Started: Decodable { var id: String }
            let id = try JSONDecoder().decode(Started.self, from: Data(started.body)).id
            // A second workflow on the machine is refused, naming the first.
            let second = try await d.call(
                "POST", "/v1/workflows", as: "operator", body: #"{"kind":"provision","machine":"web-01"}"#)
            #expect(second.status == 409 && second.text.contains(id))

            // The agent's queue: the reboot request, for this machine's token only.
            var commands: [Command] = []
            for _ in 0..<50 where commands.isEmpty {
                let poll = try await d.call("GET", "/v1/agent/commands?machine=web-01&wait=1", as: "agent-web-01")
                #expect(poll.status == 200)
                commands = try JSONDecoder().decode([Command].self, from: Data(poll.body))
            }
            let command = try #require(commands.first)
            #expect(command.action == .agent(.reboot(netboot: true)))
            #expect(try await d.call("GET", "/v1/agent/commands?machine=web-02", as: "agent-web-01").status == 403)
            // The id travels in the URL path.
            let progress = try await d.call(
                "POST", "/v1/agent/commands/\(command.id)/progress", as: "agent-web-01",
                body: #"{"machine":"web-01","fraction":0.5}"#)
            #expect(progress.status == 204, "\(progress.text)")
            let result = try await d.call(
                "POST", "/v1/agent/commands/\(command.id)/result", as: "agent-web-01",
                body: #"{"machine":"web-01","ok":true,"detail":"acked"}"#)
            #expect(result.status == 204, "\(result.text)")
            let workflow = try await d.call("GET", "/v1/workflows/\(id)", as: "viewer")
            #expect(workflow.text.contains(#""detail":"acked""#))
            // Abort ends it; the machine is free again.
            #expect(try await d.call("POST", "/v1/workflows/\(id)/abort", as: "operator").status == 200)
            #expect(try await d.call("POST", "/v1/workflows/\(id)/retry", as: "operator").status == 409)
        }
    }
}
