import ArgumentParser
import Foundation
import GoldCore

extension Gold {
    struct FleetCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fleet", abstract: "Fleet files: profiles and machines.",
            subcommands: [Validate.self, Apply.self])

        struct Validate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Check a fleet file without applying it (no director needed).")
            @Argument(help: "The fleet file.") var file: String
            @OptionGroup var output: OutputOptions

            func run() async throws {
                let fleet = try FleetParser.parse(yaml: try readFleet(file), file: file)
                if output.json {
                    return try printJSON(["machines": fleet.machines.count, "profiles": fleet.profiles.count])
                }
                print(
                    "\(file): valid, \(plural(fleet.machines.count, "machine")), \(plural(fleet.profiles.count, "profile"))"
                )
            }
        }

        struct Apply: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Show what a fleet file changes, then apply it in one transaction.")
            @Argument(help: "The fleet file.") var file: String
            @Flag(help: "Remove machines that the file no longer lists.") var prune = false
            @Flag(help: "Show the changes without applying them.") var dryRun = false
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions

            func run() async throws {
                let yaml = try readFleet(file)
                // Validate here first so a bad file fails the same way with or without a director.
                _ = try FleetParser.parse(yaml: yaml, file: file)
                let api = try client.client()
                let name =
                    file.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(["&", "="]))
                    ?? "fleet.yaml"
                let query = "file=\(name)&prune=\(prune)"
                let preview = try api.decode(
                    FleetPlan.self,
                    try await api.send(
                        "POST", "/v1/fleet/apply?\(query)&dry_run=true", body: Array(yaml.utf8),
                        contentType: "application/yaml"))
                if dryRun || preview.isEmpty {
                    if output.json { return try printJSON(preview) }
                    for line in preview.lines { print(line) }
                    print(preview.isEmpty ? "no changes" : "dry run: nothing applied")
                    return
                }
                if !output.json { for line in preview.lines { print(line) } }
                let applied = try api.decode(
                    FleetPlan.self,
                    try await api.send(
                        "POST", "/v1/fleet/apply?\(query)", body: Array(yaml.utf8), contentType: "application/yaml"))
                if output.json { return try printJSON(applied) }
                if applied != preview {
                    print("the fleet changed meanwhile; applied instead:")
                    for line in applied.lines { print(line) }
                }
                print(
                    "applied: \(applied.added.count) added, \(applied.changed.count) changed, \(applied.removed.count) removed"
                )
            }
        }
    }
}

func readFleet(_ file: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: file) else {
        throw GoldError(.notFound, "cannot read the fleet file", at: file)
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw GoldError(.invalidInput, "the fleet file is not UTF-8 text", at: file)
    }
    return text
}
