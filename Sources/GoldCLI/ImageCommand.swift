import ArgumentParser
import Foundation
import GoldDirector
import GoldImage

extension Gold {
    struct ImageCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "image", abstract: "Machines' image lineages: every version, and what changed between two.",
            subcommands: [List.self, Diff.self])

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "A machine's image versions, oldest first.")
            @Argument(help: "The machine.") var machine: String
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions
            func run() async throws {
                let versions = try await client.client().get("/v1/images/\(machine)", as: [ImageVersionSummary].self)
                if output.json { return try printJSON(versions) }
                print(table(["VERSION", "PARENT", "CHANGE", "CREATED", "SIZE", "SHA256", "DESCRIPTION"], versions.map { v in
                    [(v.current ? "*" : " ") + "\(v.version)", v.parent.map(String.init) ?? "-", v.change, ISO8601DateFormatter().string(from: v.created),
                     v.disks.map { "\($0.size >> 20) MiB" }.joined(separator: "+"), v.disks.map { String($0.sha256.prefix(12)) }.joined(separator: ","),
                     v.description]
                }))
            }
        }

        struct Diff: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Files added, removed or modified between two versions (default: the current one and its parent).")
            @Argument(help: "The machine.") var machine: String
            @Argument(help: "The older version.") var from: Int?
            @Argument(help: "The newer version.") var to: Int?
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions
            func run() async throws {
                let api = try client.client()
                var from = self.from, to = self.to
                if from == nil || to == nil {
                    let versions = try await api.get("/v1/images/\(machine)", as: [ImageVersionSummary].self)
                    guard let current = versions.first(where: \.current) ?? versions.last else {
                        throw ValidationError("machine \(machine) has no image versions")
                    }
                    to = to ?? current.version
                    from = from ?? versions.first(where: { $0.version == to })?.parent
                    guard from != nil else { throw ValidationError("version \(to!) has no parent: name both versions") }
                }
                let changes = try await api.get("/v1/images/\(machine)/diff?from=\(from!)&to=\(to!)", as: [FileChange].self)
                if output.json { return try printJSON(changes) }
                print("\(machine): version \(from!) → \(to!): \(changes.count) change(s)")
                for change in changes { print("  \(change.kind.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(change.path)") }
            }
        }
    }
}
