import Foundation
import GoldCore
import GoldSpawn

/// The files and symlinks the builder wrote over the base (machine configuration, binaries, kernel input), by
/// their resolved path in the machine.
///
/// Why it matters: `mkfs.ext4 -d` lays files out in directory-walk order, so a file that grows pushes every file
/// after it to new blocks, and with fixed-size chunks a one-file change would rewrite everything behind it. The
/// builder therefore formats each ext4 filesystem from the base alone and appends these files afterwards with
/// `debugfs write`: the base part is laid out identically for every machine and every version, and a change to
/// the overlay only touches the overlay's blocks, its directories and the allocation metadata.
final class OverlayLog: @unchecked Sendable {
    let stage: URL
    private let lock = NSLock()
    private var paths = Set<String>()

    init(stage: URL) { self.stage = stage.standardizedFileURL }

    /// Records `url` (inside the stage) as written by the builder.
    func record(_ url: URL) {
        let path = url.standardizedFileURL.path
        guard path.hasPrefix(stage.path + "/") else { return }
        lock.withLock { _ = paths.insert(String(path.dropFirst(stage.path.count))) }
    }

    /// Records every file and symlink under `directory` (inside the stage).
    func recordTree(_ directory: URL) {
        guard let walker = FileManager.default.enumerator(atPath: directory.path) else { return }
        for case let relative as String in walker {
            let url = directory.appendingPathComponent(relative)
            var st = stat()
            if lstat(url.path, &st) == 0, st.st_mode & S_IFMT == S_IFREG || st.st_mode & S_IFMT == S_IFLNK {
                record(url)
            }
        }
    }

    var all: [String] { lock.withLock { paths.sorted() } }
}

/// One overlay file, moved out of its partition's tree: appended with debugfs after the base is formatted.
struct OverlayEntry: Hashable, Sendable {
    /// Path inside the partition's filesystem (`/etc/hostname`; `/grub/grub.cfg` on a separate /boot).
    var path: String
    var source: URL
    /// A symlink's target; nil for a regular file.
    var symlinkTarget: String?
    /// st_mode (type and permission bits), uid and gid of the staged file.
    var mode: UInt32 = 0o100644
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

extension ImageBuilder {
    /// Moves the overlay files of each ext4 partition out of its tree (leaves only: their directories stay in
    /// the base layer) and returns them per partition, sorted by path.
    func separateOverlay(_ log: OverlayLog, trees: [PartitionKey: URL], plans: [DiskPlan], work: URL) throws
        -> [PartitionKey: [OverlayEntry]]
    {
        let mounted = plans.flatMap { disk in
            disk.partitions.compactMap { p in
                p.mount.map { (PartitionKey(disk: disk.index, number: p.number), $0, p.filesystem) }
            }
        }
        var out: [PartitionKey: [OverlayEntry]] = [:]
        for path in log.all {
            guard path.unicodeScalars.allSatisfy({ $0.value > 32 && $0 != "\"" && $0 != "\\" }) else {
                throw GoldError(
                    .invalidInput, "image path \(path) must not contain spaces, quotes or backslashes", at: path)
            }
            let owner = mounted.filter { $0.1 == "/" || path == $0.1 || path.hasPrefix($0.1 + "/") }
                .max { $0.1.count < $1.1.count }
            guard let (key, mount, filesystem) = owner, filesystem == .ext4, let tree = trees[key] else { continue }
            let inside = mount == "/" ? path : String(path.dropFirst(mount.count))
            let current = tree.appendingPathComponent(String(inside.dropFirst()))
            var st = stat()
            guard lstat(current.path, &st) == 0 else { continue }
            let isLink = st.st_mode & S_IFMT == S_IFLNK
            guard isLink || st.st_mode & S_IFMT == S_IFREG else { continue }
            let target = isLink ? try FileManager.default.destinationOfSymbolicLink(atPath: current.path) : nil
            let moved = work.appendingPathComponent("overlay-\(key.disk)-\(key.number)")
                .appendingPathComponent(String(inside.dropFirst()))
            try FileManager.default.createDirectory(
                at: moved.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.moveItem(at: current, to: moved)
            out[key, default: []].append(
                OverlayEntry(
                    path: inside, source: moved, symlinkTarget: target, mode: UInt32(st.st_mode), uid: st.st_uid,
                    gid: st.st_gid))
        }
        return out.mapValues { $0.sorted { $0.path < $1.path } }
    }

    /// debugfs commands appending `entries` (their directories exist in the base layer).
    static func overlayScript(_ entries: [OverlayEntry]) -> String {
        var lines: [String] = []
        for entry in entries {
            let directory = (entry.path as NSString).deletingLastPathComponent
            let name = (entry.path as NSString).lastPathComponent
            if let target = entry.symlinkTarget {
                lines.append("symlink \(entry.path) \(target)")
            } else {
                lines.append("cd \(directory.isEmpty ? "/" : directory)")
                lines.append("write \(entry.source.path) \(name)")
                // debugfs's write keeps the times but not the owner (nor always the mode): set them.
                lines.append("sif \(entry.path) mode 0\(String(entry.mode, radix: 8))")
            }
            if entry.uid != 0 { lines.append("sif \(entry.path) uid \(entry.uid)") }
            if entry.gid != 0 { lines.append("sif \(entry.path) gid \(entry.gid)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func writeOverlay(
        _ entries: [OverlayEntry], image: URL, offset: UInt64, work: URL, environment: [String: String], context: String
    ) async throws {
        guard !entries.isEmpty else { return }
        let script = work.appendingPathComponent("overlay-\(offset).debugfs")
        try Data(Self.overlayScript(entries).utf8).write(to: script)
        defer { try? FileManager.default.removeItem(at: script) }
        let result = try await runner.check(
            "debugfs", ["-w", "-f", script.path, "\(image.path)?offset=\(offset)"], environment: environment,
            context: context)
        let problems = result.stderr.split(separator: "\n").filter {
            !$0.hasPrefix("debugfs ") && !$0.contains("Allocated inode")
        }
        if !problems.isEmpty {
            throw GoldError(
                .io, "debugfs could not add the machine's files: \(problems.prefix(3).joined(separator: " | "))",
                at: context)
        }
    }
}
