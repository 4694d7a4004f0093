import ArgumentParser
import Foundation
import GoldCore
import GoldHTTPClient
import GoldImage
import GoldSpawn

extension ImageFormat: ExpressibleByArgument {}

extension Gold.ImageCommand {
    /// Writes a version's disk to a local file through the director: only non-zero ranges travel, every chunk is
    /// verified by the director and the whole file by its SHA-256 here.
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an image version's disk to a file, raw (sparse) or qcow2.",
            discussion: """
                The raw bytes are fetched from the director in 8 MiB ranges (zero ranges are not fetched) and checked \
                against the version's SHA-256 before the file appears. qcow2 is converted from that raw file with \
                qemu-img (Debian package qemu-utils). Progress goes to stderr.
                """)
        @Argument(help: "The machine.") var machine: String
        @Argument(help: "The version number, or 'current'.") var version: String
        @Option(help: "raw or qcow2.") var format: ImageFormat = .raw
        @Option(help: "The file to write (it must not exist).") var output: String
        @Option(help: "Which of the machine's disks (0 for the first).") var disk = 0
        @OptionGroup var client: ClientOptions
        @OptionGroup var json: OutputOptions

        func validate() throws {
            guard version == "current" || Int(version) != nil else {
                throw ValidationError("VERSION must be a version number or 'current', not '\(version)'")
            }
            guard disk >= 0 else { throw ValidationError("--disk must be 0 or more, not \(disk)") }
            guard !output.isEmpty, !output.hasSuffix("/") else {
                throw ValidationError("--output must name a file, not '\(output)'")
            }
        }

        struct Exported: Encodable {
            let machine: String, version: Int, disk: Int, format: String, output: String
            let size: UInt64, sha256: String, fetchedBytes: UInt64, seconds: Double
        }

        func run() async throws {
            let destination = URL(fileURLWithPath: output)
            guard !FileManager.default.fileExists(atPath: destination.path) else {
                throw GoldError(.conflict, "\(output) exists: remove it or choose another file", at: "--output")
            }
            var qemuImg: String?
            if format == .qcow2 {
                guard let found = SystemRunner.locate("qemu-img") else {
                    throw GoldError(
                        .unavailable, "qcow2 needs qemu-img: install the Debian package qemu-utils", at: "--format")
                }
                qemuImg = found
            }
            let api = try client.client()
            let detail = try await api.get("/v1/images/\(machine)/\(version)", as: ImageVersionDetail.self)
            guard let chosen = detail.disks.first(where: { $0.index == disk }) else {
                throw GoldError(
                    .notFound,
                    "\(machine) version \(detail.version) has no disk \(disk) (it has \(detail.disks.map { "\($0.index)" }.joined(separator: ", ")))",
                    at: "--disk")
            }
            let directory = destination.deletingLastPathComponent()
            let raw = directory.appendingPathComponent(".\(destination.lastPathComponent).raw.partial")
            defer { try? FileManager.default.removeItem(at: raw) }
            let download = RawImageDownload(chosen)
            let started = Date()
            var meter = ProgressMeter(label: "\(machine) version \(detail.version) disk \(disk)")
            var fetched: UInt64 = 0
            let path = "/v1/images/\(machine)/\(detail.version)/disks/\(disk)"
            try await download.write(to: raw) { first, last in
                let response = try await api.send(
                    "GET", path, headers: [("Range", "bytes=\(first)-\(last)")], timeout: .seconds(120))
                fetched += UInt64(response.body.count)
                return Data(response.body)
            } progress: { done, total in
                if let line = meter.update(done: done, total: total, now: Date()) {
                    FileHandle.standardError.write(Data(line.utf8))
                }
            }
            if let qemuImg {
                let partial = directory.appendingPathComponent(".\(destination.lastPathComponent).partial")
                defer { try? FileManager.default.removeItem(at: partial) }
                FileHandle.standardError.write(Data("converting to qcow2 with qemu-img…\n".utf8))
                try await Self.run(qemuImg, ["convert", "-f", "raw", "-O", "qcow2", raw.path, partial.path])
                try FileManager.default.moveItem(at: partial, to: destination)
            } else {
                try FileManager.default.moveItem(at: raw, to: destination)
            }
            let result = Exported(
                machine: machine, version: detail.version, disk: disk, format: format.rawValue, output: output,
                size: chosen.size,
                sha256: chosen.sha256, fetchedBytes: fetched, seconds: Date().timeIntervalSince(started))
            if json.json { return try printJSON(result) }
            print(
                "\(machine) version \(detail.version) disk \(disk) → \(output) (\(format.rawValue)): \(mib(chosen.size)), sha256 \(chosen.sha256.prefix(16))… verified; "
                    + "\(mib(fetched)) fetched in \(String(format: "%.1f", result.seconds)) s")
        }

        static func run(_ executable: String, _ arguments: [String]) async throws {
            let result = try await SystemRunner().run(executable, arguments, timeout: nil)
            guard result.succeeded else {
                throw GoldError(.io, "\((executable as NSString).lastPathComponent) failed: \(result.summary)")
            }
        }
    }
}

/// Progress lines for stderr: at most one a second, and the last one always.
struct ProgressMeter {
    let label: String
    var started: Date?
    var lastPrint: Date?

    init(label: String) { self.label = label }

    /// The line to print now, or nil to stay quiet.
    mutating func update(done: UInt64, total: UInt64, now: Date) -> String? {
        let start = started ?? now
        started = start
        let finished = done >= total
        if !finished, let lastPrint, now.timeIntervalSince(lastPrint) < 1 { return nil }
        lastPrint = now
        let percent = total == 0 ? 100 : Int(done * 100 / total)
        let seconds = now.timeIntervalSince(start)
        let rate = seconds > 0 ? " \(mib(UInt64(Double(done) / seconds)))/s" : ""
        return "\(label): \(mib(done)) of \(mib(total)) (\(percent)%)\(rate)\n"
    }
}
