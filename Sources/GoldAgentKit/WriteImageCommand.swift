import ArgumentParser
import Foundation
import GoldImage

/// `gold-agent write-image`: writes one version of a machine's image from a local image store directory to a
/// file or block device, offline, with the netboot agent's ``ImageWriter`` (zero ranges skipped, only chunks that
/// differ from what the target holds written, every chunk and then the whole disk verified).
struct WriteImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write-image",
        abstract: "Write a machine's image from a local image store to a file or block device.",
        discussion: """
            Chunks are read from the store and verified; only chunks that differ from what the target already \
            holds are written (zero ranges of a new file are left as holes). Every chunk written is read back and \
            compared with what was written; with --verify image (the default) the whole disk range also goes \
            through one SHA-256 that must equal the image's; --verify chunks checks the chunks only. A missing \
            target file is created; a file shorter than the image is extended.
            """)

    @Option(help: "The image store directory (the director's data directory + /images).") var store =
        "/var/lib/gold/images"
    @Option(help: "The machine whose image to write.") var machine: String
    @Option(help: "The version to write (default: the machine's current version).") var version: Int?
    @Option(
        name: .customLong("target"),
        help:
            "Where to write: a file or block device, one per disk in order (default: each disk's device from the image)."
    )
    var targets: [String] = []
    @Option(
        help:
            "How the disk is checked: image (every chunk, and the image's SHA-256 over the whole disk), or chunks (every chunk only)."
    )
    var verify: ImageWriter.Verification = .image
    @Flag(help: "Print the result as JSON.") var json = false

    /// What one disk's write did.
    struct DiskResult: Codable {
        var disk: Int
        var target: String
        var size: UInt64
        var sha256: String
        var chunks: Int
        var fetched: Int
        var unchanged: Int
        var zeroed: Int
        var refetched: Int
        var refetchedChunks: [Int]
        var verified: String
        var bytesFetched: UInt64
        var bytesWritten: UInt64
        var seconds: Double
    }

    struct Result: Codable {
        var machine: String
        var version: Int
        var disks: [DiskResult]
        var seconds: Double
    }

    func run() async throws {
        let imageStore = ImageStore(root: URL(fileURLWithPath: store))
        guard let chosen = try version ?? imageStore.currentVersion(machine: machine) else {
            throw AgentError("machine \(machine) has no image in the store \(store)")
        }
        let manifest = try imageStore.manifest(machine: machine, version: chosen)
        let paths = try Self.targets(targets, for: manifest)
        let source = StoreChunkSource(store: imageStore)
        let clock = ContinuousClock()
        let started = clock.now
        var results: [DiskResult] = []
        for (disk, path) in zip(manifest.disks, paths) {
            let diskStarted = clock.now
            try Self.prepare(path, size: disk.size, create: !targets.isEmpty)
            let writer = ImageWriter(target: try FileBlockTarget(path: path), source: source, verification: verify)
            let stats = try await writer.write(disk)
            results.append(
                DiskResult(
                    disk: disk.index, target: path, size: disk.size, sha256: disk.sha256, chunks: stats.chunks,
                    fetched: stats.fetched, unchanged: stats.unchanged, zeroed: stats.zeroed,
                    refetched: stats.refetched,
                    refetchedChunks: stats.refetchedChunks, verified: verify.rawValue,
                    bytesFetched: stats.bytesFetched, bytesWritten: stats.bytesWritten,
                    seconds: Self.seconds(clock.now - diskStarted)))
        }
        let result = Result(
            machine: manifest.machine, version: manifest.version, disks: results,
            seconds: Self.seconds(clock.now - started))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
            return
        }
        for d in results {
            let which =
                d.refetchedChunks.isEmpty
                ? "" : " (chunks " + d.refetchedChunks.map(String.init).joined(separator: ", ") + ")"
            print(
                "\(manifest.machine) version \(manifest.version) disk \(d.disk) → \(d.target): verified (\(d.verified); sha256 \(d.sha256.prefix(12))…); "
                    + "\(d.chunks) chunks: \(d.fetched) fetched, \(d.unchanged) unchanged, \(d.zeroed) zeroed, "
                    + "\(d.refetched) refetched\(which); \(d.bytesWritten) bytes written in \(String(format: "%.2f", d.seconds)) s"
            )
        }
    }

    /// One target per disk: the flags in order, else each disk's device from the image.
    static func targets(_ given: [String], for manifest: ImageManifest) throws -> [String] {
        if !given.isEmpty {
            guard given.count == manifest.disks.count else {
                throw ValidationError(
                    "machine \(manifest.machine) version \(manifest.version) has \(manifest.disks.count) disk(s); "
                        + "\(given.count) --target given (one per disk, in order)")
            }
            return given
        }
        return try manifest.disks.map { disk in
            guard let device = disk.device else {
                throw ValidationError(
                    "disk \(disk.index) of machine \(manifest.machine) version \(manifest.version) names no device: pass --target"
                )
            }
            return device
        }
    }

    /// Creates a missing target file (only one named by `--target`, never a device the image names) and extends a
    /// short one (the extension is a hole: zero ranges need no writes); a block device must be at least as large
    /// as the image.
    static func prepare(_ path: String, size: UInt64, create: Bool) throws {
        let fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0o644)
        guard fd >= 0 else { throw AgentError("cannot open \(path) for writing: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw AgentError("stat \(path): \(String(cString: strerror(errno)))") }
        if (info.st_mode & S_IFMT) == S_IFREG {
            if UInt64(info.st_size) < size, ftruncate(fd, off_t(size)) != 0 {
                throw AgentError("cannot extend \(path) to \(size) bytes: \(String(cString: strerror(errno)))")
            }
            return
        }
        let end = lseek(fd, 0, SEEK_END)
        guard end >= 0, UInt64(end) >= size else {
            throw AgentError("\(path) holds \(max(end, 0)) bytes; the image needs \(size)")
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

extension ImageWriter.Verification: ExpressibleByArgument {}
