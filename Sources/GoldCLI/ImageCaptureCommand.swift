import ArgumentParser
import Foundation
import GoldImage
import GoldWorkflow

extension Gold.ImageCommand {
    /// `gold image capture MACHINE`: the machine's disks, as they are, become its next image version.
    struct Capture: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Reboot into netboot, store the disks as a new image version (only chunks the store lacks move), boot back from disk.",
            discussion: """
                The version records change 'capture', its parent is the machine's current version, and it becomes the \
                current one (the disk holds it). `gold image diff MACHINE` then compares it with its parent: by file \
                when both versions have a file list, else by chunk.
                """)
        @Argument(help: "The machine.") var machine: String
        @OptionGroup var start: StartOptions
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOptions
        func run() async throws {
            try await startWorkflow(
                .capture, machine: machine, parameters: [:], client: client, output: output, watch: start.watch)
        }
    }

    /// What `diff` prints for versions without a file list: the chunk ranges that differ, per disk.
    static func render(_ diff: ChunkDiff, reason: String) -> String {
        var lines = [
            "\(diff.machine): version \(diff.from) → \(diff.to): \(reason); compared by chunk: \(diff.changedChunks) chunk(s) differ (\(mib(diff.changedBytes)))"
        ]
        for disk in diff.disks {
            let sizes =
                disk.sizes[0] == disk.sizes[1] ? mib(disk.sizes[1]) : "\(mib(disk.sizes[0])) → \(mib(disk.sizes[1]))"
            let ranges = disk.ranges.prefix(12).map { "\(mib($0.offset))+\(mib($0.length))" }.joined(separator: ", ")
            let more = disk.ranges.count > 12 ? ", … \(disk.ranges.count - 12) more" : ""
            lines.append(
                "  disk \(disk.index) (\(sizes)): \(disk.changedChunks) chunk(s), \(mib(disk.changedBytes))"
                    + (ranges.isEmpty ? "" : " at \(ranges)\(more)"))
        }
        return lines.joined(separator: "\n")
    }
}
