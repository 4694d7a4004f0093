import ArgumentParser
import Foundation
import GoldCore
import GoldLab
import GoldPower
import GoldServer
import GoldWorkflow
import Logging

struct LabOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Where the lab keeps its state, disks, consoles and Gold's data.", valueName: "dir"))
    var stateDir = "/var/lib/gold/lab"

    var controller: LabController {
        var logger = Logger(label: "gold.lab")
        logger.logLevel = .warning
        return LabController(stateDirectory: stateDir, logger: logger)
    }
}

extension Gold {
    struct LabCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "lab", abstract: "A lab of QEMU machines provisioned over the network by Gold.",
            subcommands: [Up.self, Down.self, Status.self, Demo.self, RestartDirector.self, Cable.self])

        struct Up: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create the lab: a private network, QEMU machines on it, and Gold's servers for it.",
                discussion: """
                    The machines sit on a bridge inside the network namespace gold-lab (10.77.0.0/24). The director and \
                    compile roles run on this host at http://10.77.255.1:8080, joined to the lab by a veth (10.77.255.1 ↔ \
                    10.77.255.2); the deploy role (DHCP, TFTP, HTTP boot, images) runs inside the namespace on 10.77.0.1. \
                    `. STATE_DIR/env` points the CLI at the lab's director.
                    """)
            @OptionGroup var lab: LabOptions
            @Option(help: "How many machines (UEFI and BIOS in turn).") var machines = 2
            @Option(
                help: ArgumentHelp(
                    "The statically linked gold-agent (scripts/build-agent.sh) for the netboot environment.",
                    valueName: "path"))
            var agent = ProcessInfo.processInfo.environment["GOLD_AGENT_BINARY"] ?? ".build-agent/release/gold-agent"

            func validate() throws {
                guard (1...32).contains(machines) else { throw ValidationError("--machines must be 1 to 32") }
            }

            func run() async throws {
                let result = try await lab.controller.up(
                    count: machines, goldBinary: try selfPath(), agentBinary: agent
                ) { print("lab: \($0)") }
                print(
                    """
                    lab: up with \(result.machines.joined(separator: ", ")) (netboot kernel \(result.netbootKernel))
                    lab: the director runs on this host at \(result.directorURL) (the deploy role runs inside the lab); to use it:
                      . \(result.environmentFile)
                      gold machine list
                    lab: remove it all with: gold lab down
                    """)
            }
        }

        struct RestartDirector: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract:
                    "Stop the lab's director and start it again; --kill stops it with SIGKILL, as a crash would (a drill: workflows carry on)."
            )
            @OptionGroup var lab: LabOptions
            @Flag(help: "SIGKILL instead of a clean stop.") var kill = false

            func run() async throws {
                let result = try await lab.controller.restartDirector(kill: kill, goldBinary: try selfPath())
                print(
                    "lab: director "
                        + (result.stopped.map { "\(kill ? "killed" : "stopped") (pid \($0)), " } ?? "was not running, ")
                        + "started (pid \(result.started))")
            }
        }

        struct Cable: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract:
                    "Pull or plug a lab machine's network cable behind Gold's back (a machine that never answers, for drills)."
            )
            @OptionGroup var lab: LabOptions
            @Argument(help: "The lab machine.") var machine: String
            @Argument(help: "unplug or plug.") var action: String

            func validate() throws {
                guard ["unplug", "plug"].contains(action) else {
                    throw ValidationError("the action is 'unplug' or 'plug', not '\(action)'")
                }
            }

            func run() async throws {
                try await lab.controller.lab.setCable(machine: machine, plugged: action == "plug")
                print("lab: \(machine)'s cable \(action == "plug" ? "plugged in" : "pulled")")
            }
        }

        struct Down: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Remove every trace of the lab: processes, taps, bridge, namespace, files.")
            @OptionGroup var lab: LabOptions

            func run() async throws {
                switch try await lab.controller.down() {
                case .nothingUp(let message):
                    print("lab: \(message)")
                case .removed(let removed, let leftovers):
                    print("lab: removed " + (removed.isEmpty ? "nothing" : removed.joined(separator: ", ")))
                    if !leftovers.isEmpty {
                        throw GoldError(.internalError, "left behind: " + leftovers.joined(separator: "; "))
                    }
                }
            }
        }

        struct Status: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show the lab's machines and their power.")
            @OptionGroup var lab: LabOptions
            @OptionGroup var output: OutputOptions

            func run() async throws {
                guard let state = try lab.controller.lab.current() else {
                    print("lab: no lab is up (no state in \(lab.stateDir))")
                    return
                }
                var rows: [[String]] = []
                for entry in state.machines {
                    let power = (try? await entry.machine.powerDriver().status().rawValue) ?? "unknown"
                    rows.append([
                        entry.machine.spec.name, entry.machine.spec.bootMode.rawValue, entry.machine.spec.effectiveMAC,
                        power,
                        entry.machine.serialLog,
                    ])
                }
                if output.json { return try printJSON(rows) }
                print(table(["MACHINE", "FIRMWARE", "MAC", "POWER", "CONSOLE"], rows))
            }
        }
    }
}

/// This executable's own path, to start Gold's servers inside the lab.
func selfPath() throws -> String {
    try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
}
