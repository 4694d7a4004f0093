import ArgumentParser
import Foundation
import GoldImage

extension Gold.ImageCommand {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "One image version: size, SHA-256, chunks, zero ranges, what is new against its parent, the change that made it."
        )
        @Argument(help: "The machine.") var machine: String
        @Argument(help: "The version number, or 'current'.") var version = "current"
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard version == "current" || Int(version) != nil else {
                throw ValidationError("VERSION must be a version number or 'current', not '\(version)'")
            }
        }

        func run() async throws {
            let detail = try await client.client().get("/v1/images/\(machine)/\(version)", as: ImageVersionDetail.self)
            if output.json { return try printJSON(detail) }
            print(Self.render(detail))
        }

        /// The text `show` prints.
        static func render(_ d: ImageVersionDetail, maxRanges: Int = 8) -> String {
            var lines = ["\(d.machine) version \(d.version)\(d.current ? " (current)" : "")"]
            func row(_ name: String, _ value: String) {
                lines.append("  " + (name + ":").padding(toLength: 10, withPad: " ", startingAt: 0) + value)
            }
            row("parent", d.parent.map { "\($0)" + (d.parentAvailable ? "" : " (collected)") } ?? "-")
            row("change", d.change + (d.description.isEmpty ? "" : " — \(d.description)"))
            row("created", ISO8601DateFormatter().string(from: d.created))
            row("size", "\(mib(d.size)) (\(d.size) bytes) on \(d.disks.count) disk\(d.disks.count == 1 ? "" : "s")")
            row(
                "chunks",
                "\(d.chunks), \(d.disks.reduce(0) { $0 + $1.zeroChunks }) all-zero (\(mib(d.zeroBytes)) not stored)")
            if let parent = d.parent, let new = d.newChunks, let bytes = d.newBytes {
                row("new", "\(new) chunk\(new == 1 ? "" : "s") (\(mib(bytes))) that version \(parent) does not have")
            } else {
                row("new", d.parent == nil ? "all (no parent)" : "unknown (the parent was garbage collected)")
            }
            for disk in d.disks {
                lines.append(
                    "  disk \(disk.index)\(disk.device.map { " \($0)" } ?? ""): \(mib(disk.size)), \(disk.chunks) chunks of \(mib(UInt64(disk.chunkSize)))"
                )
                lines.append("    sha256 \(disk.sha256)")
                let ranges = disk.zeroRanges.prefix(maxRanges).map { "\(mib($0.offset))+\(mib($0.length))" }
                let more = disk.zeroRanges.count > maxRanges ? ", … \(disk.zeroRanges.count - maxRanges) more" : ""
                lines.append(
                    "    zero   \(mib(disk.zeroBytes)) in \(disk.zeroRanges.count) range\(disk.zeroRanges.count == 1 ? "" : "s")"
                        + (ranges.isEmpty ? "" : ": " + ranges.joined(separator: ", ") + more))
                if let new = disk.newChunks, let bytes = disk.newBytes {
                    lines.append("    new    \(new) chunks (\(mib(bytes)))")
                }
            }
            return lines.joined(separator: "\n")
        }
    }
}

/// Bytes as MiB for people: whole MiB when exact, else one decimal.
func mib(_ bytes: UInt64) -> String {
    bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : String(format: "%.1f MiB", Double(bytes) / Double(1 << 20))
}
