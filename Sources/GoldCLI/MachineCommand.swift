import ArgumentParser
import Foundation
import GoldAPI
import GoldCore

extension Gold {
    struct MachineCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "machine", abstract: "The fleet's machines.",
            subcommands: [List.self, Show.self, Backups.self])

        struct Backups: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "The binaries an update replaced on a machine, as the director keeps them (hash, mode, time)."
            )
            @Argument(help: "The machine.") var machine: String
            @Argument(help: "The binary, as its fleet entry names it.") var binary: String
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions

            struct File: Codable {
                var path: String
                var sha256: String?
                var size: Int
                var mode: Int
            }
            struct BackupSet: Codable {
                var id: String
                var at: Date
                var files: [File]
            }

            func run() async throws {
                let sets = try await client.client().get(
                    "/v1/machines/\(machine)/backups/\(binary)", as: [BackupSet].self)
                if output.json { return try printJSON(sets) }
                print(
                    table(
                        ["BACKUP", "TAKEN", "PATH", "MODE", "SIZE", "SHA256"],
                        sets.flatMap { set in
                            set.files.map {
                                [
                                    set.id, ISO8601DateFormatter().string(from: set.at), $0.path,
                                    String($0.mode, radix: 8), "\($0.size)",
                                    $0.sha256 ?? "(absent before)",
                                ]
                            }
                        }))
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List machines.")
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions
            @Option(help: "Only machines with this role.") var role: String?
            @Option(help: "Only machines in this state.") var state: MachineState?

            func run() async throws {
                var query: [String] = []
                if let role { query.append("role=\(role)") }
                if let state { query.append("state=\(state.rawValue)") }
                let path = "/v1/machines" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
                let api = try client.client()
                let machines = try await api.get(path, as: [MachineRecord].self)
                if output.json { return try printJSON(machines) }
                let images = await imageVersions(api)
                print(
                    table(
                        ["NAME", "ROLE", "STATE", "KERNEL", "IMAGE", "BOOT", "MACS", "DISKS"],
                        machines.map {
                            [
                                $0.name, $0.spec.role ?? "-", $0.state.rawValue, Gold.LabCommand.runningKernel($0),
                                images[$0.name].map { "v\($0)" } ?? "-", $0.spec.boot.rawValue,
                                $0.spec.macs.map(\.description).joined(separator: ","),
                                $0.spec.disks.map(\.size.description).joined(separator: ","),
                            ]
                        }))
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show one machine.")
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "The machine's name.") var name: String

            func run() async throws {
                let api = try client.client()
                let machine = try await api.get("/v1/machines/\(name)", as: MachineRecord.self)
                if output.json { return try printJSON(machine) }
                let spec = machine.spec
                let image = await imageVersions(api)[name].map { "version \($0) deployed" } ?? "none yet"
                var lines = [
                    "name:     \(spec.name)", "state:    \(machine.state.rawValue)", "role:     \(spec.role ?? "-")",
                    "running:  kernel \(Gold.LabCommand.runningKernel(machine)), image \(image)",
                    "profile:  \(spec.profile ?? "-")", "boot:     \(spec.boot.rawValue)",
                    "macs:     \(spec.macs.map(\.description).joined(separator: ", "))",
                    "cpu:      \(spec.cpu.model ?? "-") (-march=\(spec.cpu.march))",
                    "network:  \(spec.network.mode.rawValue) \(spec.network.address ?? "") hostname \(spec.network.hostname ?? spec.name)",
                    "power:    \(spec.power.driver.rawValue) \(spec.power.address ?? "")",
                ]
                for disk in spec.disks {
                    lines.append("disk:     \(disk.device ?? "serial " + (disk.serial ?? "?")) \(disk.size)")
                    for part in disk.partitions {
                        lines.append(
                            "          \(part.size?.description ?? "rest") \(part.filesystem.rawValue) \(part.mount ?? "")"
                        )
                    }
                }
                if let kernel = spec.kernel {
                    lines.append("kernel:   \(kernel.source) base \(kernel.base), \(kernel.fragments.count) fragments")
                }
                for binary in spec.binaries { lines.append("binary:   \(binary.name) from \(binary.source)") }
                for check in spec.checks { lines.append("check:    \(check.kind.rawValue) \(check.target)") }
                lines.append("updated:  \(machine.updatedAt)")
                print(lines.joined(separator: "\n"))
            }
        }
    }
}

extension MachineState: ExpressibleByArgument {}

/// Each machine's deployed image version; empty when the director keeps no images (the column then shows "-").
func imageVersions(_ api: DirectorClient) async -> [String: Int] {
    guard let lineages = try? await api.get("/v1/images", as: [ImageLineageSummary].self) else { return [:] }
    return Dictionary(
        lineages.compactMap { lineage in lineage.current.map { (lineage.machine, $0) } },
        uniquingKeysWith: { a, _ in a })
}
