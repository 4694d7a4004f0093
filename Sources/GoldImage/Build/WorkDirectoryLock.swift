import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Marks a build's work directory `work/NAME` as in use: an exclusive `flock` on `work/NAME.lock`, held from before the
/// directory exists until it is removed. A build killed with its process (a director SIGKILLed mid-build) releases the
/// lock with the process, so the next build removes what it left: no work directory of a dead build stays behind, and
/// none of a running one — in this process or another — is ever touched.
final class WorkDirectoryLock: Sendable {
    let directory: URL
    private let fd: Int32

    private init(directory: URL, fd: Int32) {
        self.directory = directory
        self.fd = fd
    }

    deinit { close(fd) }

    static func lockPath(_ directory: URL) -> String { directory.path + ".lock" }

    /// Locks `directory`'s lock file, creating it; the directory itself is created by the caller after this returns.
    static func acquire(_ directory: URL) throws -> WorkDirectoryLock {
        let path = lockPath(directory)
        while true {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw AtomicFile.ioError("cannot create the build's lock file", URL(fileURLWithPath: path))
            }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                close(fd)
                throw AtomicFile.ioError("the build's lock file is held by another build", URL(fileURLWithPath: path))
            }
            // A sweep may have removed the file between the open and the lock: hold the lock of the file at the path.
            var held = stat()
            var named = stat()
            if fstat(fd, &held) == 0, stat(path, &named) == 0, held.st_ino == named.st_ino, held.st_dev == named.st_dev
            {
                return WorkDirectoryLock(directory: directory, fd: fd)
            }
            close(fd)
        }
    }

    /// Removes the directory, then the lock file, then lets go of the lock.
    func remove() {
        try? FileManager.default.removeItem(at: directory)
        unlink(Self.lockPath(directory))
    }

    /// Removes every build directory under `work` whose build is gone: its lock file is not held by anyone (the build's
    /// process ended without removing it), or it has no lock file and was last changed over `legacyAge` ago (left by a
    /// build from before these locks). Returns the names removed.
    @discardableResult
    static func sweep(_ work: URL, legacyAge: TimeInterval = 3600, now: Date = Date()) -> [String] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: work.path) else { return [] }
        var removed: [String] = []
        for name in names where !name.hasSuffix(".lock") && !name.hasPrefix(".") {
            let directory = work.appendingPathComponent(name)
            let lockFile = lockPath(directory)
            let fd = open(lockFile, O_RDWR | O_CLOEXEC)
            if fd < 0 {
                // No lock file: a build from before these locks (a build of now creates its lock file first).
                let modified = (try? fm.attributesOfItem(atPath: directory.path))?[.modificationDate] as? Date ?? now
                if now.timeIntervalSince(modified) > legacyAge, (try? fm.removeItem(at: directory)) != nil {
                    removed.append(name)
                }
                continue
            }
            defer { close(fd) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { continue }  // a build is running
            if (try? fm.removeItem(at: directory)) != nil || !fm.fileExists(atPath: directory.path) {
                unlink(lockFile)
                removed.append(name)
            }
        }
        // Lock files whose directory is gone and whose build is over.
        for name in names where name.hasSuffix(".lock") {
            let directory = work.appendingPathComponent(String(name.dropLast(5)))
            guard !fm.fileExists(atPath: directory.path) else { continue }
            let fd = open(lockPath(directory), O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { continue }
            if flock(fd, LOCK_EX | LOCK_NB) == 0, !fm.fileExists(atPath: directory.path) { unlink(lockPath(directory)) }
            close(fd)
        }
        return removed
    }
}
