import Foundation
import GoldCore
import GoldSpawn

#if canImport(Glibc)
    import Glibc
#endif

/// Unpacked base tarballs under `base-trees/`: a build hard-links the base into its stage (`cp -al`, about a
/// second for a Debian base) instead of unpacking the tarball again (8–13 s of system time on the benchmark VM).
///
/// A tree is named by the SHA-256 of the tarball's bytes, hashed on every build (under half a second for 657 MiB),
/// so a tarball changed in place never finds the tree of its old bytes, and by SOURCE_DATE_EPOCH: every time in
/// it is set to the epoch when it is unpacked, and builds set the linked inodes' times to their epoch again, so
/// builds with another epoch must not share them.
///
/// The stage shares the tree's file inodes (content, owner, mode, extended attributes); its directories are its
/// own. The builder never writes a staged file in place: it removes and recreates whatever it changes
/// (``RootfsCustomizer/write(_:at:mode:uid:gid:)``, the kernel and GRUB copies) and moves files only within its
/// work directory, so the tree keeps the tarball's content. A tree is unpacked under a temporary name, flushed and
/// then renamed, so a partial tree never has the name. The least recently used trees beyond `capacity` are removed;
/// a build that has linked the tree keeps its links.
struct BaseTreeCache: Sendable {
    let directory: URL
    var capacity = 2

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Fills `stage` (which must not exist yet) with hard links to the unpacked `tarball`, unpacking it into the
    /// cache first when no tree of its bytes and `epoch` is there. Throws when the cache cannot be used; the
    /// caller then removes `stage` and unpacks the tarball itself.
    func link(_ tarball: URL, epoch: Int64, into stage: URL, runner: any ProgramRunner) async throws {
        let name = "\(try FileManifest.hashFile(tarball.path))-\(epoch)"
        let tree = directory.appendingPathComponent(name)
        if !FileManager.default.fileExists(atPath: tree.path) {
            try await unpack(tarball, epoch: epoch, as: tree, runner: runner)
        }
        guard utimes(tree.path, nil) == 0 else {  // now: the least recently used trees are removed first
            throw Failure(description: "cannot mark \(tree.path) as used (errno \(errno))")
        }
        try FileManager.default.createDirectory(at: stage, withIntermediateDirectories: true)
        try await runner.check("cp", ["-al", tree.path + "/.", stage.path + "/"], context: tree.path)
        trim(keeping: name)
    }

    private func unpack(_ tarball: URL, epoch: Int64, as tree: URL, runner: any ProgramRunner) async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let temp = directory.appendingPathComponent(".\(tree.lastPathComponent).\(UUID().uuidString).tmp")
        defer { try? FileManager.default.removeItem(at: temp) }
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: false)
        try await runner.check(
            "tar", ["-xpf", tarball.path, "--numeric-owner", "-C", temp.path], context: tarball.path)
        try await runner.check(
            "find", [temp.path, "-exec", "touch", "-h", "-d", "@\(epoch)", "{}", "+"], context: temp.path)
        // The tree is trusted once it has its name: its files must be on disk before the rename is.
        try await runner.check("sync", ["-f", temp.path], context: temp.path)
        if rename(temp.path, tree.path) != 0 {
            // A concurrent build renamed the same tree first (rename does not replace a non-empty directory).
            guard FileManager.default.fileExists(atPath: tree.path) else {
                throw Failure(description: "cannot rename \(temp.path) to \(tree.path) (errno \(errno))")
            }
        }
        AtomicFile.syncDirectory(directory)
    }

    /// Removes the least recently used trees beyond `capacity` (never `keeping`), and temporary trees a build
    /// that stopped mid-unpack left behind (older than an hour).
    func trim(keeping: String) {
        let fm = FileManager.default
        let names = (try? fm.contentsOfDirectory(atPath: directory.path)) ?? []
        func modified(_ name: String) -> Date {
            (try? fm.attributesOfItem(atPath: directory.appendingPathComponent(name).path))?[.modificationDate]
                as? Date ?? .distantPast
        }
        // A temporary tree's times are the epoch once touched; its status change time is when it was last worked on.
        func changed(_ name: String) -> Int {
            var st = stat()
            return lstat(directory.appendingPathComponent(name).path, &st) == 0 ? st.st_ctim.tv_sec : 0
        }
        let trees = names.filter { !$0.hasPrefix(".") && $0 != keeping }.map { ($0, modified($0)) }
            .sorted { $0.1 > $1.1 }
        let now = Int(Date().timeIntervalSince1970)
        let stale = names.filter { $0.hasPrefix(".") && $0.hasSuffix(".tmp") && changed($0) < now - 3600 }
        for name in trees.dropFirst(max(capacity - 1, 0)).map(\.0) + stale {
            try? fm.removeItem(at: directory.appendingPathComponent(name))
        }
    }
}
