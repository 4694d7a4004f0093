import ArgumentParser
import Foundation
import GoldImage

extension Gold.ImageCommand {
    struct GC: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "Remove old image versions and the chunks only they used (admin).",
            discussion: """
                Keeps the newest --keep versions of every machine, each machine's current version (the one its disk \
                holds) and every version a running workflow writes or restores; removes the other versions, then \
                every chunk no remaining version names. Try --dry-run first.
                """)
        @Option(help: "How many of each machine's newest versions to keep (at least 1).") var keep = RetentionRule
            .defaultKeepLast
        @Flag(help: "Report what would be removed; remove nothing.") var dryRun = false
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard keep >= 1 else {
                throw ValidationError(
                    "--keep must be at least 1 (the newest version of a machine is always kept), not \(keep)")
            }
        }

        func run() async throws {
            struct Body: Encodable { let keep: Int, dryRun: Bool }
            let body = try JSONEncoder().encode(Body(keep: keep, dryRun: dryRun))
            let api = try client.client()
            let response = try await api.send("POST", "/v1/image-store/gc", body: Array(body), timeout: .seconds(600))
            let result = try api.decode(GarbageCollection.self, response)
            if output.json { return try printJSON(result) }
            print(Self.render(result))
        }

        static func render(_ gc: GarbageCollection) -> String {
            let rows = gc.machines.map { m in
                [
                    m.machine, m.current.map(String.init) ?? "-",
                    m.kept.map { v in "\(v)" + (m.reasons["\(v)"].map { "(\($0.joined(separator: ",")))" } ?? "") }
                        .joined(separator: " "),
                    m.removed.isEmpty ? "-" : m.removed.map(String.init).joined(separator: " "),
                ]
            }
            let verb = gc.dryRun ? "would free" : "freed"
            let versions = gc.machines.reduce(0) { $0 + $1.removed.count }
            return table(["MACHINE", "CURRENT", "KEPT", gc.dryRun ? "WOULD REMOVE" : "REMOVED"], rows) + "\n"
                + "\(gc.dryRun ? "dry run: " : "")\(versions) version\(versions == 1 ? "" : "s") (keep \(gc.keepLast)); \(verb) \(gc.removedChunks) chunk\(gc.removedChunks == 1 ? "" : "s"), \(mib(gc.bytesFreed)); "
                + "the store \(gc.dryRun ? "would hold" : "holds") \(gc.remainingChunks) chunks, \(mib(gc.remainingBytes))"
        }
    }
}
