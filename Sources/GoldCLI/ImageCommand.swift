import ArgumentParser
import Foundation
import GoldAPI
import GoldCore
import GoldImage

extension Gold {
    struct ImageCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "image", abstract: "Machines' image lineages: every version, and what changed between two.",
            subcommands: [List.self, Show.self, Diff.self, Export.self, GC.self, Import.self, Capture.self])

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "A machine's image versions, oldest first.")
            @Argument(help: "The machine.") var machine: String
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions
            func run() async throws {
                let versions = try await client.client().get("/v1/images/\(machine)", as: [ImageVersionSummary].self)
                if output.json { return try printJSON(versions) }
                print(
                    table(
                        ["VERSION", "PARENT", "CHANGE", "CREATED", "SIZE", "SHA256", "DESCRIPTION"],
                        versions.map { v in
                            [
                                (v.current ? "*" : " ") + "\(v.version)", v.parent.map(String.init) ?? "-", v.change,
                                ISO8601DateFormatter().string(from: v.created),
                                v.disks.map { "\($0.size >> 20) MiB" }.joined(separator: "+"),
                                v.disks.map { String($0.sha256.prefix(12)) }.joined(separator: ","),
                                v.description,
                            ]
                        }))
            }
        }

        /// Chunks a raw disk file straight into an image store directory, without a director.
        struct Import: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Import a raw disk image file into a local image store as a machine's next version.",
                discussion: """
                    Works on the store directory directly, no director needed (for example to seed a store, or to \
                    write the image elsewhere with `gold-agent write-image`). Safe beside a running director: every \
                    writer of the store (imports, image builds, garbage collection) holds its lock file.
                    """)
            @Argument(help: "The raw disk image file.") var file: String
            @Option(help: "The machine the image is for.") var machine: String
            @Option(help: "The image store directory.") var store = "/var/lib/gold/images"
            @Option(help: "The device the image is for (e.g. /dev/vda), recorded in the manifest.") var device: String?
            @Option(help: "What kind of change this version is: provision, kernel-upgrade, software-update or capture.")
            var change = "capture"
            @Option(help: "A note kept with the version.") var description = ""
            @OptionGroup var output: OutputOptions

            struct Imported: Encodable {
                let machine: String, version: Int, size: UInt64, sha256: String
                let chunks: Int, zeroChunks: Int, newChunks: Int, newBytes: UInt64
            }

            func run() async throws {
                guard let kind = ImageChange(rawValue: change) else {
                    throw ValidationError(
                        "--change must be one of \(ImageChange.allCases.map(\.rawValue).joined(separator: ", ")), not '\(change)'"
                    )
                }
                guard FileManager.default.isReadableFile(atPath: file) else {
                    throw ValidationError("cannot read image file \(file)")
                }
                let images = ImageStore(root: URL(fileURLWithPath: store))
                let stats = try images.importImages(
                    files: [URL(fileURLWithPath: file)], devices: [device], machine: machine, change: kind,
                    description: description)
                let disk = try images.manifest(machine: machine, version: stats.version).disks[0]
                let imported = Imported(
                    machine: machine, version: stats.version, size: disk.size, sha256: disk.sha256,
                    chunks: stats.totalChunks,
                    zeroChunks: stats.zeroChunks, newChunks: stats.newChunks, newBytes: stats.newBytes)
                if output.json { return try printJSON(imported) }
                print(
                    "\(machine) version \(stats.version): \(disk.size >> 20) MiB, sha256 \(disk.sha256.prefix(12))…; \(stats.totalChunks) chunks "
                        + "(\(stats.zeroChunks) zero, \(stats.newChunks) new, \(stats.newBytes >> 20) MiB new) in \(store)"
                )
            }
        }

        struct Diff: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract:
                    "Files added, removed or modified between two versions (default: the current one and its parent).")
            @Argument(help: "The machine.") var machine: String
            @Argument(help: "The older version.") var from: Int?
            @Argument(help: "The newer version.") var to: Int?
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions
            func run() async throws {
                let api = try client.client()
                var from = self.from
                var to = self.to
                if from == nil || to == nil {
                    let versions = try await api.get("/v1/images/\(machine)", as: [ImageVersionSummary].self)
                    guard let current = versions.first(where: \.current) ?? versions.last else {
                        throw ValidationError("machine \(machine) has no image versions")
                    }
                    to = to ?? current.version
                    from = from ?? versions.first(where: { $0.version == to })?.parent
                    guard from != nil else { throw ValidationError("version \(to!) has no parent: name both versions") }
                }
                let changes: [FileChange]
                do {
                    changes = try await api.get(
                        "/v1/images/\(machine)/diff?from=\(from!)&to=\(to!)", as: [FileChange].self)
                } catch let error as GoldError where error.code == .notFound && error.message.contains("no file list") {
                    // A captured version has no file list: say what differs chunk by chunk instead.
                    let chunks = try await api.get(
                        "/v1/images/\(machine)/chunk-diff?from=\(from!)&to=\(to!)", as: ChunkDiff.self)
                    if output.json { return try printJSON(chunks) }
                    return print(Gold.ImageCommand.render(chunks, reason: error.message))
                }
                if output.json { return try printJSON(changes) }
                print("\(machine): version \(from!) → \(to!): \(changes.count) change(s)")
                for change in changes {
                    print("  \(change.kind.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(change.path)")
                }
            }
        }
    }
}
