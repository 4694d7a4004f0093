import ArgumentParser
import Foundation
import GoldAPI
import GoldCore
import GoldLab
import GoldServer
import GoldWorkflow

extension Gold.LabCommand {
    /// The README's main job: a lab, Gold inside it, and every machine provisioned over the network, step by step.
    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring up a lab and provision every machine in it over the network, showing each step.")
        @OptionGroup var lab: LabOptions
        @Option(help: "How many machines (UEFI and BIOS in turn).") var machines = 2
        @Option(help: ArgumentHelp("The statically linked gold-agent.", valueName: "path"))
        var agent = ProcessInfo.processInfo.environment["GOLD_AGENT_BINARY"] ?? ".build-agent/release/gold-agent"
        @Option(
            help: ArgumentHelp(
                "Provision only these machines (comma-separated); default: every lab machine.", valueName: "names"))
        var provision: String?
        @Flag(
            help:
                "Stop after provisioning (the kernel upgrade compiles a kernel: about 10 minutes on 2 cores, cached after)."
        )
        var skipKernelUpgrade = false

        func run() async throws {
            let controller = lab.controller
            let started = Date()
            if try controller.lab.current() == nil {
                _ = try await controller.up(count: machines, goldBinary: try selfPath(), agentBinary: agent) {
                    print("demo: \($0)")
                }
            } else {
                print("demo: using the lab that is already up")
            }
            let token = try String(contentsOfFile: controller.tokenFile, encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines)
            let api = DirectorClient(baseURL: controller.directorURL, token: token)
            var names = try await api.get("/v1/machines", as: [MachineRecord].self).map(\.name)
            if let provision {
                let wanted = provision.split(separator: ",").map(String.init)
                if let unknown = wanted.first(where: { !names.contains($0) }) {
                    throw GoldError(
                        .invalidInput,
                        "no lab machine named '\(unknown)'; the lab has \(names.joined(separator: ", "))",
                        at: "--provision")
                }
                names = names.filter(wanted.contains)
            }
            var workflows: [String: String] = [:]
            for name in names {
                struct Body: Encodable {
                    var kind: String
                    var machine: String
                }
                let body = try JSONEncoder().encode(Body(kind: "provision", machine: name))
                let workflow = try api.decode(
                    Workflow.self, try await api.send("POST", "/v1/workflows", body: Array(body)))
                workflows[name] = workflow.id
                print("demo: provisioning \(name) (\(workflow.id))")
            }
            // Both machines provision at once; print every step as it changes.
            var finished = try await Gold.LabCommand.watch(api, workflows)
            print("\ndemo: summary after \(Int(Date().timeIntervalSince(started))) s")
            var rows: [[String]] = []
            for name in names {
                let machine = try await api.get("/v1/machines/\(name)", as: MachineRecord.self)
                let workflow = finished[name]!
                let kernel = Gold.LabCommand.runningKernel(machine)
                rows.append([
                    name, machine.state.rawValue, workflow.status.rawValue, kernel,
                    workflow.context[ContextKey.imageVersion] ?? "-",
                    "\(Int(workflow.updatedAt.timeIntervalSince(workflow.createdAt))) s",
                ])
            }
            print(table(["MACHINE", "STATE", "WORKFLOW", "KERNEL", "IMAGE", "TIME"], rows))
            for workflow in finished.values where workflow.status != .succeeded {
                print(WorkflowView.summary(workflow))
            }
            if !skipKernelUpgrade, finished.values.allSatisfy({ $0.status == .succeeded }) {
                // The seed's kernel upgrade: compile a kernel for one machine, install it for one boot from the
                // netboot environment, promote it on boot success.
                let target = names.contains("lab-bios-01") ? "lab-bios-01" : names[0]
                print(
                    "\ndemo: kernel upgrade of \(target) to a kernel the compile role builds for it (linux-source-6.1, tinyconfig + lab fragment)"
                )
                try await controller.applyFleet(profiles: [target: "lab-kernel"])
                struct Body: Encodable {
                    var kind: String
                    var machine: String
                }
                let body = try JSONEncoder().encode(Body(kind: "kernel-upgrade", machine: target))
                let upgrade = try api.decode(
                    Workflow.self, try await api.send("POST", "/v1/workflows", body: Array(body)))
                print("demo: kernel upgrade of \(target) (\(upgrade.id))")
                let done = try await Gold.LabCommand.watch(api, [target: upgrade.id])
                finished["\(target) kernel upgrade"] = done[target]
                let machine = try await api.get("/v1/machines/\(target)", as: MachineRecord.self)
                let kernel = Gold.LabCommand.runningKernel(machine)
                print(
                    "demo: kernel upgrade \(done[target]!.status.rawValue) after \(Int(done[target]!.updatedAt.timeIntervalSince(done[target]!.createdAt))) s; "
                        + "\(target) runs kernel \(kernel) (expected \(done[target]!.context["kernel.release"] ?? "?"))"
                )
                if done[target]!.status != .succeeded { print(WorkflowView.summary(done[target]!)) }
            }
            print(
                """

                The lab keeps running. Look around (the director runs on this host at \(controller.directorURL)):
                  . \(controller.environmentFile)
                  gold machine list; gold events; gold workflow list
                  consoles: \(lab.stateDir)/machines/*/serial.log
                Remove it with: gold lab down  (or scripts/demo.sh down)
                """)
            if finished.values.contains(where: { $0.status != .succeeded }) { throw ExitCode(2) }
        }
    }

    /// Prints every step of these workflows as it changes until all have ended; returns them by machine.
    static func watch(_ api: DirectorClient, _ workflows: [String: String]) async throws -> [String: Workflow] {
        var printers: [String: StepPrinter] = [:]
        var finished: [String: Workflow] = [:]
        while finished.count < workflows.count {
            for (name, id) in workflows.sorted(by: { $0.key < $1.key }) where finished[name] == nil {
                let workflow = try await api.get("/v1/workflows/\(id)", as: Workflow.self)
                for (index, run) in printers[name, default: StepPrinter()].due(workflow) {
                    print("\(name): \(WorkflowView.line(run, index: index))")
                }
                if workflow.status != .running { finished[name] = workflow }
            }
            fflush(nil)
            try await Task.sleep(for: .seconds(1))
        }
        return finished
    }

    /// The kernel release the machine's agent last reported, or "-".
    static func runningKernel(_ machine: MachineRecord) -> String {
        if case .object(let facts) = machine.inventory ?? .null, case .string(let kernel) = facts["kernel"] ?? .null {
            return kernel
        }
        return "-"
    }
}
