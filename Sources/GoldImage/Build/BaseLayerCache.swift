import Foundation
import GoldCore

#if canImport(Glibc)
    import Glibc
#endif

/// Formatted ext4 base layers (`mkfs.ext4 -d` of a partition's base tree, times clamped, before the machine's
/// own files are appended), by ``BaseLayerKey``: every machine and version built from the same base and layout
/// copies the partition instead of formatting it again. Entries are sparse files named `<key>.ext4`; the
/// least recently used are removed beyond `capacity`.
struct BaseLayerCache: Sendable {
    let directory: URL
    var capacity = 4

    func url(_ key: String) -> URL { directory.appendingPathComponent("\(key).ext4") }

    /// The cached partition of `size` bytes for `key`, open for reading (so trimming cannot take it away
    /// mid-copy) and marked as just used; nil when there is none. The caller closes it.
    func open(_ key: String, size: UInt64) -> Int32? {
        let entry = url(key)
        let fd = Glibc.open(entry.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0, UInt64(st.st_size) == size else {
            close(fd)
            return nil
        }
        futimens(fd, nil)  // now: the least recently used entries are trimmed first
        return fd
    }

    /// Keeps bytes `offset..<offset+size` of `image` (a freshly formatted base layer) as the entry for `key`.
    /// A cache that cannot be written costs the next build a format, never this one: errors are returned to log.
    func store(_ key: String, image: URL, offset: UInt64, size: UInt64) -> (any Error)? {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let temp = directory.appendingPathComponent(".\(key).\(UUID().uuidString).tmp")
            defer { try? FileManager.default.removeItem(at: temp) }
            _ = FileManager.default.createFile(atPath: temp.path, contents: nil)
            let handle = try FileHandle(forWritingTo: temp)
            try handle.truncate(atOffset: size)
            try handle.close()
            try SparseCopy.copy(image, from: offset, count: size, into: temp, at: 0)
            // rename replaces an entry a concurrent build stored meanwhile: both hold the same bytes.
            guard rename(temp.path, url(key).path) == 0 else { throw AtomicFile.ioError("cannot rename into", url(key)) }
            trim()
            return nil
        } catch {
            return error
        }
    }

    /// Removes the least recently used entries beyond `capacity`.
    func trim() {
        let fm = FileManager.default
        let entries = ((try? fm.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".ext4") && !$0.hasPrefix(".") }
            .map { name -> (String, Date) in
                let date = (try? fm.attributesOfItem(atPath: directory.appendingPathComponent(name).path))?[
                    .modificationDate] as? Date
                return (name, date ?? .distantPast)
            }
            .sorted { $0.1 > $1.1 }
        for (name, _) in entries.dropFirst(capacity) {
            try? fm.removeItem(at: directory.appendingPathComponent(name))
        }
    }
}
