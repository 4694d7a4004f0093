import Foundation
import GoldCore

#if canImport(Glibc)
    import Glibc
#endif

/// Writes files so that a crash leaves either the old state or the new one, never half a file:
/// write a temporary file in the same directory tree, fsync it, rename it into place, fsync the directory.
enum AtomicFile {
    static func write(_ data: Data, to url: URL, temporaryDirectory: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: temporaryDirectory, withIntermediateDirectories: true)
        try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temp = temporaryDirectory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString)")
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ioError("cannot create", temp) }
        var ok = false
        defer {
            if !ok { unlink(temp.path) }
        }
        do {
            defer { close(fd) }
            try data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw ioError("cannot write", temp)
                    }
                    offset += n
                }
            }
            guard fsync(fd) == 0 else { throw ioError("cannot fsync", temp) }
        }
        guard rename(temp.path, url.path) == 0 else { throw ioError("cannot rename into", url) }
        ok = true
        syncDirectory(url.deletingLastPathComponent())
    }

    static func syncDirectory(_ url: URL) {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    static func ioError(_ what: String, _ url: URL) -> GoldError {
        GoldError(.io, "\(what) \(url.path): \(String(cString: strerror(errno)))", at: url.path)
    }
}
