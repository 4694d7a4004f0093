import ArgumentParser
import Foundation
import GoldAPI
import GoldCore
import GoldWorkflow

/// Starting workflows: one command per runbook procedure.
struct StartOptions: ParsableArguments {
    @Flag(help: "Print each step as it runs until the workflow ends.") var watch = false
}

func startWorkflow(
    _ kind: WorkflowKind, machine: String, parameters: [String: String], client: ClientOptions, output: OutputOptions,
    watch: Bool
) async throws {
    let api = try client.client()
    let body = try JSONEncoder().encode(
        StartWorkflowRequest(kind: kind.rawValue, machine: machine, parameters: parameters))
    let workflow = try api.decode(Workflow.self, try await api.send("POST", "/v1/workflows", body: Array(body)))
    if output.json && !watch { return try printJSON(workflow) }
    if !output.json {
        print("started \(workflow.kind.rawValue) \(workflow.id) on \(machine) (\(workflow.steps.count) steps)")
    }
    if watch { try await watchWorkflow(workflow.id, api: api, json: output.json) }
}

/// Prints each step's start and end with timing and progress, until the workflow ends; exits non-zero unless it succeeded.
func watchWorkflow(_ id: String, api: DirectorClient, json: Bool) async throws {
    var printer = StepPrinter()
    while true {
        let workflow = try await api.get("/v1/workflows/\(id)", as: Workflow.self)
        for (index, run) in printer.due(workflow) {
            if json {
                try printJSONLine([
                    "workflow": id, "step": run.definition.name, "state": run.state.rawValue,
                    "detail": run.detail ?? "",
                ])
            } else {
                print(WorkflowView.line(run, index: index))
            }
        }
        if workflow.status != .running {
            if json { try printJSON(workflow) } else { print(WorkflowView.summary(workflow)) }
            if workflow.status != .succeeded { throw ExitCode(2) }
            return
        }
        try await Task.sleep(for: .seconds(1))
    }
}

func printJSONLine<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
    fflush(nil)
}

/// Which steps of a watched workflow deserve a new line: one whose state, attempt or progress (in 10% steps) changed,
/// or a running step whose detail changed (a compile's objects built, an image's bytes written) at most every
/// `detailInterval`, so a long step never looks stuck and its clock alone never prints a line.
struct StepPrinter {
    var detailInterval: TimeInterval = 30
    private var shown: [String: (state: String, detail: String?, at: Date)] = [:]

    mutating func due(_ workflow: Workflow, now: Date = Date()) -> [(index: Int, run: Workflow.StepRun)] {
        var lines: [(index: Int, run: Workflow.StepRun)] = []
        for (index, run) in workflow.allRuns.enumerated() where run.state != .pending {
            let key = "\(index)/\(run.definition.name)"
            let state = "\(run.state)/\(run.attempts)/\(Int((run.progress ?? 0) * 10))"
            if let last = shown[key], last.state == state {
                guard run.state == .running, run.detail != last.detail, now.timeIntervalSince(last.at) >= detailInterval
                else { continue }
            }
            shown[key] = (state, run.detail, now)
            lines.append((index, run))
        }
        return lines
    }
}

enum WorkflowView {
    static func line(_ run: Workflow.StepRun, index: Int) -> String {
        let mark =
            switch run.state {
            case .pending: "  "
            case .running: "▶ "
            case .succeeded: "✔ "
            case .failed: "✘ "
            }
        var line = "\(mark)\(run.definition.name)"
        if run.attempts > 1 { line += " (attempt \(run.attempts))" }
        if let start = run.startedAt {
            let end = run.finishedAt ?? Date()
            line += String(format: " %.0fs", end.timeIntervalSince(start))
        }
        if run.state == .running, let deadline = run.deadline {
            line += String(format: ", deadline in %.0fs", max(0, deadline.timeIntervalSinceNow))
        }
        if let progress = run.progress, run.state == .running {
            let filled = Int(progress * 20)
            line +=
                " [" + String(repeating: "#", count: filled) + String(repeating: ".", count: 20 - filled)
                + String(format: "] %3.0f%%", progress * 100)
        }
        if let detail = run.detail, run.state != .running || run.progress != nil || !detail.isEmpty {
            line += " — \(detail)"
        }
        return line
    }

    static func summary(_ workflow: Workflow) -> String {
        var text = "\(workflow.id) \(workflow.kind.rawValue) on \(workflow.machine): \(workflow.status.rawValue)"
        text += String(format: " after %.0fs", workflow.updatedAt.timeIntervalSince(workflow.createdAt))
        if let intervention = workflow.intervention {
            text += "\n  step: \(intervention.step)\n  reason: \(intervention.reason)"
            if !intervention.recoveredBy.isEmpty {
                text += "\n  Gold did: \(intervention.recoveredBy.joined(separator: "; "))"
            }
            if !intervention.evidence.isEmpty {
                // What scrolled away (a panic before the old kernel booted again) first, then the latest lines.
                let shown =
                    intervention.evidence.filter { $0.hasPrefix("serial (earlier)") } + intervention.evidence.suffix(15)
                text +=
                    "\n  evidence (all of it: gold workflow show \(workflow.id) --json):\n"
                    + shown.map { "    \($0)" }.joined(separator: "\n")
            }
            text += "\n  then: gold interventions retry|resolve|abort \(workflow.id)"
        }
        return text
    }
}

extension Gold {
    struct Provision: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "New machine: compile, build its image, netboot, write the image, boot from disk, verify, torture.")
        @Argument(help: "The machine.") var machine: String
        @OptionGroup var start: StartOptions
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await startWorkflow(
                .provision, machine: machine, parameters: [:], client: client, output: output, watch: start.watch)
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Reboot into netboot, write an image version (only differing chunks), boot from disk, verify, torture.")
        @Argument(help: "The machine.") var machine: String
        @Option(help: "The image version (default: the machine's current one).") var version: Int?
        @OptionGroup var start: StartOptions
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOptions
        func run() async throws {
            var parameters: [String: String] = [:]
            if let version { parameters[ContextKey.imageVersion] = "\(version)" }
            try await startWorkflow(
                .restore, machine: machine, parameters: parameters, client: client, output: output, watch: start.watch)
        }
    }

    struct KernelCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "kernel", abstract: "Kernels.", subcommands: [Upgrade.self])
        struct Upgrade: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract:
                    "Install a new kernel for the next boot only; promote it on boot success, revert it by itself otherwise."
            )
            @Argument(help: "The machine.") var machine: String
            @Option(
                help: ArgumentHelp(
                    "The kernel to build and boot instead of the fleet entry's, for this upgrade only: a mapping like the fleet file's "
                        + "'kernel:' ('{source: debian:linux-source-6.1, base: tinyconfig, fragments: [CONFIG_X=y], localversion: -v2}') or "
                        + "@FILE holding one. A plain release name only says which release to expect from the fleet's kernel.",
                    valueName: "spec")) var kernel: String?
            @OptionGroup var start: StartOptions
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions
            func run() async throws {
                var parameters: [String: String] = [:]
                if let kernel {
                    if kernel.hasPrefix("{") || kernel.hasPrefix("@") {
                        let text: String
                        if kernel.hasPrefix("@") {
                            let path = String(kernel.dropFirst())
                            guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
                                throw GoldError(.notFound, "cannot read the kernel spec file", at: path)
                            }
                            text = contents
                        } else {
                            text = kernel
                        }
                        let spec = try FleetParser.parseKernel(yaml: text, field: "--kernel")
                        parameters["kernel.spec"] = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
                    } else {
                        parameters["kernel"] = kernel
                    }
                }
                try await startWorkflow(
                    .kernelUpgrade, machine: machine, parameters: parameters, client: client, output: output,
                    watch: start.watch)
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Replace a binary: stop its services, back up the old one, install, restart, test; restore on failure.")
        @Argument(help: "The machine.") var machine: String
        @Option(help: "The binary, as its fleet entry names it.") var binary: String
        @Flag(help: "The update needs a reboot: install it from the netboot environment.") var reboot = false
        @OptionGroup var start: StartOptions
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await startWorkflow(
                .softwareUpdate, machine: machine, parameters: ["binary": binary, "reboot": "\(reboot)"],
                client: client, output: output, watch: start.watch)
        }
    }

    struct WorkflowCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "workflow", abstract: "Workflows and their steps.",
            subcommands: [List.self, Show.self, Watch.self])

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List workflows, newest first.")
            @Option(help: "Only this machine's.") var machine: String?
            @Flag(help: "Only running ones and those waiting for a person.") var active = false
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions
            func run() async throws {
                var path = "/v1/workflows?active=\(active)"
                if let machine { path += "&machine=\(machine)" }
                let workflows = try await client.client().get(path, as: [Workflow].self)
                if output.json { return try printJSON(workflows) }
                print(
                    table(
                        ["ID", "KIND", "MACHINE", "STATUS", "STEP", "AGE"],
                        workflows.map { w in
                            let step =
                                w.current.map { "\(w.cursor + 1)/\(w.steps.count) \($0.definition.name)" }
                                ?? "\(w.steps.count)/\(w.steps.count)"
                            return [
                                w.id, w.kind.rawValue, w.machine, w.status.rawValue, step,
                                String(format: "%.0fs", Date().timeIntervalSince(w.createdAt)),
                            ]
                        }))
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show a workflow's steps.")
            @Argument(help: "The workflow id.") var id: String
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions
            func run() async throws {
                let workflow = try await client.client().get("/v1/workflows/\(id)", as: Workflow.self)
                if output.json { return try printJSON(workflow) }
                for (index, run) in workflow.allRuns.enumerated() { print(WorkflowView.line(run, index: index)) }
                print(WorkflowView.summary(workflow))
            }
        }

        struct Watch: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Follow a workflow until it ends.")
            @Argument(help: "The workflow id.") var id: String
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions
            func run() async throws { try await watchWorkflow(id, api: try client.client(), json: output.json) }
        }
    }

    struct Interventions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Machines waiting for a person, with the reason and the evidence.",
            subcommands: [List.self, Retry.self, Resolve.self, Abort.self], defaultSubcommand: List.self)

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List interventions.")
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions
            func run() async throws {
                let waiting = try await client.client().get("/v1/interventions", as: [Workflow].self)
                if output.json { return try printJSON(waiting) }
                if waiting.isEmpty { print("no machine is waiting for a person") }
                for workflow in waiting { print(WorkflowView.summary(workflow)) }
            }
        }

        struct Retry: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Run the failed step again (after fixing what the evidence shows).")
            @Argument(help: "The workflow id.") var id: String
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions
            func run() async throws { try await act("retry", id, client, output) }
        }

        struct Resolve: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "The failed step was done by hand: go on with the next.")
            @Argument(help: "The workflow id.") var id: String
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions
            func run() async throws { try await act("resolve", id, client, output) }
        }

        struct Abort: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Stop the workflow.")
            @Argument(help: "The workflow id.") var id: String
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions
            func run() async throws { try await act("abort", id, client, output) }
        }
    }
}

func act(_ verb: String, _ id: String, _ client: ClientOptions, _ output: OutputOptions) async throws {
    let api = try client.client()
    let workflow = try api.decode(Workflow.self, try await api.send("POST", "/v1/workflows/\(id)/\(verb)"))
    if output.json { return try printJSON(workflow) }
    print("\(verb): \(workflow.id) is \(workflow.status.rawValue)")
}
