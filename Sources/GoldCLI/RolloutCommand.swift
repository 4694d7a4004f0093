import ArgumentParser
import Foundation
import GoldAPI
import GoldWorkflow

/// How a rollout picks and paces its machines.
struct RolloutOptions: ParsableArguments {
    @Option(help: "Which machines: role=ROLE, profile=NAME, name=A,B or all.") var select: String
    @Option(help: "Machines updated first, alone; if one fails the rollout halts.") var canary = 1
    @Option(help: "Machines updated together after the canary.") var batch = 1
    @Option(help: "Failures after the canary tolerated before the rollout halts.") var maxFailures = 0
    @Flag(help: "Print each batch and machine as it moves until the rollout ends.") var watch = false
}

extension Gold {
    struct RolloutCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rollout",
            abstract:
                "Kernel upgrades and software updates across the fleet: a canary, then batches; halts on failures.",
            subcommands: [Kernel.self, Update.self, List.self, Show.self, Pause.self, Resume.self, Abort.self])

        static func start(
            _ kind: WorkflowKind, _ options: RolloutOptions, parameters: [String: String], client: ClientOptions,
            output: OutputOptions
        ) async throws {
            let api = try client.client()
            let body = try JSONEncoder().encode(
                StartRolloutRequest(
                    kind: kind.rawValue, select: options.select, parameters: parameters, canary: options.canary,
                    batch: options.batch, maxFailures: options.maxFailures))
            let rollout = try api.decode(Rollout.self, try await api.send("POST", "/v1/rollouts", body: Array(body)))
            if output.json && !options.watch { return try printJSON(rollout) }
            print(
                "started \(rollout.kind.rawValue) rollout \(rollout.id) over \(rollout.targets.count) machine(s) in \(rollout.batchCount) batch(es)"
            )
            if options.watch { try await watch(rollout.id, api: api) }
        }

        static func watch(_ id: String, api: DirectorClient) async throws {
            var printed: [String: String] = [:]
            while true {
                let rollout = try await api.get("/v1/rollouts/\(id)", as: Rollout.self)
                for target in rollout.targets {
                    let state = target.outcome?.rawValue ?? (target.workflow == nil ? "waiting" : "running")
                    if printed[target.machine] != state && state != "waiting" {
                        print(
                            "batch \(target.batch + 1)/\(rollout.batchCount) \(target.machine): \(state)"
                                + (target.workflow.map { " (\($0))" } ?? "") + (target.detail.map { " — \($0)" } ?? ""))
                        printed[target.machine] = state
                    }
                }
                if rollout.isFinished {
                    print(summary(rollout))
                    if rollout.status != .succeeded { throw ExitCode(2) }
                    return
                }
                fflush(nil)
                try await Task.sleep(for: .seconds(2))
            }
        }

        static func summary(_ rollout: Rollout) -> String {
            var text =
                "rollout \(rollout.id) (\(rollout.kind.rawValue), \(rollout.selector)): \(rollout.status.rawValue)"
            if let reason = rollout.reason { text += " — \(reason)" }
            text +=
                "\n"
                + table(
                    ["BATCH", "MACHINE", "WORKFLOW", "OUTCOME", "DETAIL"],
                    rollout.targets.map {
                        [
                            "\($0.batch + 1)" + ($0.batch == 0 && rollout.canary > 0 ? " (canary)" : ""), $0.machine,
                            $0.workflow ?? "-",
                            $0.outcome?.rawValue ?? ($0.workflow == nil ? "not started" : "running"),
                            String(($0.detail ?? "").prefix(100)),
                        ]
                    })
            return text
        }

        struct Kernel: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Upgrade the selected machines' kernels (each to the one its fleet entry builds).")
            @OptionGroup var options: RolloutOptions
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions
            func run() async throws {
                try await RolloutCommand.start(.kernelUpgrade, options, parameters: [:], client: client, output: output)
            }
        }

        struct Update: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Update one binary on the selected machines.")
            @OptionGroup var options: RolloutOptions
            @Option(help: "The binary, as the fleet entries name it.") var binary: String
            @Flag(help: "The update needs a reboot: install it from the netboot environment.") var reboot = false
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions
            func run() async throws {
                try await RolloutCommand.start(
                    .softwareUpdate, options, parameters: ["binary": binary, "reboot": "\(reboot)"], client: client,
                    output: output)
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Rollouts, newest first.")
            @Flag(help: "Only running and paused ones.") var active = false
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions
            func run() async throws {
                let rollouts = try await client.client().get("/v1/rollouts?active=\(active)", as: [Rollout].self)
                if output.json { return try printJSON(rollouts) }
                print(
                    table(
                        ["ID", "KIND", "SELECT", "STATUS", "BATCH", "DONE", "FAILED"],
                        rollouts.map { r in
                            [
                                r.id, r.kind.rawValue, r.selector, r.status.rawValue,
                                "\(min(r.batch + 1, r.batchCount))/\(r.batchCount)",
                                "\(r.targets.filter { $0.outcome != nil }.count)/\(r.targets.count)", "\(r.failures)",
                            ]
                        }))
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "A rollout's machines, batches and outcomes.")
            @Argument(help: "The rollout.") var id: String
            @Flag(help: "Follow it until it ends.") var watch = false
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions
            func run() async throws {
                let api = try client.client()
                if watch { return try await RolloutCommand.watch(id, api: api) }
                let rollout = try await api.get("/v1/rollouts/\(id)", as: Rollout.self)
                if output.json { return try printJSON(rollout) }
                print(RolloutCommand.summary(rollout))
            }
        }

        struct Pause: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Hold the next batch (running workflows finish).")
            @Argument(help: "The rollout.") var id: String
            @OptionGroup var client: ClientOptions
            func run() async throws { try await act("pause", id, client) }
        }

        struct Resume: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Continue a paused rollout.")
            @Argument(help: "The rollout.") var id: String
            @OptionGroup var client: ClientOptions
            func run() async throws { try await act("resume", id, client) }
        }

        struct Abort: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Stop a rollout (running workflows finish on their own).")
            @Argument(help: "The rollout.") var id: String
            @OptionGroup var client: ClientOptions
            func run() async throws { try await act("abort", id, client) }
        }

        static func act(_ verb: String, _ id: String, _ client: ClientOptions) async throws {
            let api = try client.client()
            let rollout = try api.decode(
                Rollout.self, try await api.send("POST", "/v1/rollouts/\(id)/\(verb)", body: nil))
            print(summary(rollout))
        }
    }
}

private func act(_ verb: String, _ id: String, _ client: ClientOptions) async throws {
    try await Gold.RolloutCommand.act(verb, id, client)
}
