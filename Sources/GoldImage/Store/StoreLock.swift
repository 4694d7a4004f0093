import Foundation
import GoldCore

#if canImport(Glibc)
    import Glibc
#endif

/// The image store's writer lock: an exclusive `flock(2)` on `<store>/lock`.
///
/// Every writer (an import, `setCurrent`, garbage collection) holds it for its whole run. `flock` belongs to an
/// open file description, so it excludes other ``ImageStore`` values in this process (the director, the image
/// builder and the CLI each make their own) as well as other processes (`gold image import` on the same
/// directory); the kernel drops it when its holder dies, so a crash never leaves the store locked.
struct StoreLock: Sendable {
    let url: URL

    func withLock<T>(_ body: () throws -> T) throws -> T {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AtomicFile.ioError("cannot open the store lock", url) }
        defer { close(fd) }  // closing the descriptor releases the lock
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw AtomicFile.ioError("cannot lock", url) }
        }
        return try body()
    }
}
