import Foundation
import GoldCore

#if canImport(Glibc)
    import Glibc
#endif

/// Formatted ext4 base layers (`mkfs.ext4 -d` of a partition's base tree, times clamped, before the machine's
/// own files are appended), by ``BaseLayerKey``: every machine and version built from the same base and layout
/// copies the partition instead of formatting it again. The least recently used entries are removed beyond
/// `capacity`.
///
/// An entry `<key>.ext4` is the partition's bytes (sparse) followed by a trailer naming their ``SparseCopy``
/// digest. It is written to a temporary name, flushed and then renamed, so a partial entry never has the name;
/// an entry of the wrong size, without the trailer or whose bytes do not match it is removed, never copied from.
struct BaseLayerCache: Sendable {
    let directory: URL
    var capacity = 4

    static let trailerPrefix = "\ngold-base-layer-1 sha256="
    static let trailerLength = trailerPrefix.utf8.count + 64 + 1

    func url(_ key: String) -> URL { directory.appendingPathComponent("\(key).ext4") }

    /// An entry open for reading (so trimming cannot take it away mid-copy) and the digest its trailer names.
    struct Entry {
        let fd: Int32
        let digest: String
        let url: URL
    }

    /// The entry for `key` holding a partition of `size` bytes, marked as just used; nil when there is none or it
    /// is not well-formed (then it is removed). The caller closes it.
    func open(_ key: String, size: UInt64) -> Entry? {
        let entry = url(key)
        let fd = Glibc.open(entry.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var st = stat()
        var trailer = [UInt8](repeating: 0, count: Self.trailerLength)
        guard fstat(fd, &st) == 0, UInt64(st.st_size) == size + UInt64(Self.trailerLength),
            trailer.withUnsafeMutableBytes({ pread(fd, $0.baseAddress!, $0.count, off_t(size)) }) == trailer.count,
            let text = String(bytes: trailer, encoding: .utf8), text.hasPrefix(Self.trailerPrefix), text.hasSuffix("\n")
        else {
            close(fd)
            try? FileManager.default.removeItem(at: entry)
            return nil
        }
        let digest = String(text.dropFirst(Self.trailerPrefix.count).dropLast())
        guard digest.count == 64, digest.allSatisfy(\.isHexDigit) else {
            close(fd)
            try? FileManager.default.removeItem(at: entry)
            return nil
        }
        futimens(fd, nil)  // now: the least recently used entries are trimmed first
        return Entry(fd: fd, digest: digest, url: entry)
    }

    /// Copies `entry`'s `size` bytes into `image` at `offset` (whose range reads as zeros) and checks them against
    /// its digest. False when the entry cannot be read or does not match: it is removed and the range reads as
    /// zeros again. Throws only when the image cannot be written.
    func restore(_ entry: Entry, size: UInt64, into image: URL, at offset: UInt64, warn: (String) -> Void) throws
        -> Bool
    {
        let output = Glibc.open(image.path, O_WRONLY | O_CLOEXEC)
        guard output >= 0 else { throw AtomicFile.ioError("cannot open", image) }
        defer { close(output) }
        var written: [Range<UInt64>] = []
        do {
            let digest = try SparseCopy.copy(
                entry.fd, name: entry.url, count: size, into: output, name: image, at: offset, written: &written)
            if digest == entry.digest { return true }
            warn("cached base layer \(entry.url.lastPathComponent) does not match its digest: removed")
        } catch let error as SparseCopy.ReadError {
            warn("cached base layer \(entry.url.lastPathComponent) cannot be read (\(error)): removed")
        }
        try SparseCopy.zero(output, name: image, ranges: written)
        try? FileManager.default.removeItem(at: entry.url)
        return false
    }

    /// Keeps bytes `offset..<offset+size` of `image` (a freshly formatted base layer) as the entry for `key`.
    /// A cache that cannot be written costs the next build a format, never this one: errors are returned to log.
    func store(_ key: String, image: URL, offset: UInt64, size: UInt64) -> (any Error)? {
        let temp = directory.appendingPathComponent(".\(key).\(UUID().uuidString).tmp")
        defer { try? FileManager.default.removeItem(at: temp) }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let input = Glibc.open(image.path, O_RDONLY | O_CLOEXEC)
            guard input >= 0 else { throw AtomicFile.ioError("cannot open", image) }
            defer { close(input) }
            let output = Glibc.open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard output >= 0 else { throw AtomicFile.ioError("cannot create", temp) }
            defer { close(output) }
            guard ftruncate(output, off_t(size)) == 0 else { throw AtomicFile.ioError("cannot size", temp) }
            var written: [Range<UInt64>] = []
            let digest = try SparseCopy.copy(
                input, name: image, from: offset, count: size, into: output, name: temp, at: 0, written: &written)
            let trailer = Array((Self.trailerPrefix + digest + "\n").utf8)
            try trailer.withUnsafeBytes {
                try SparseCopy.writeFully(output, from: $0.baseAddress!, count: $0.count, at: size, name: temp)
            }
            guard fsync(output) == 0 else { throw AtomicFile.ioError("cannot flush", temp) }
            // rename replaces an entry a concurrent build stored meanwhile: both hold the same bytes.
            guard rename(temp.path, url(key).path) == 0 else {
                throw AtomicFile.ioError("cannot rename into", url(key))
            }
            let dir = Glibc.open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if dir >= 0 {
                fsync(dir)
                close(dir)
            }
            trim()
            return nil
        } catch {
            return error
        }
    }

    /// Removes the least recently used entries beyond `capacity`, and temporary files a build that stopped
    /// mid-store left behind (older than an hour: a store in progress takes seconds).
    func trim() {
        let fm = FileManager.default
        let names = (try? fm.contentsOfDirectory(atPath: directory.path)) ?? []
        func modified(_ name: String) -> Date {
            (try? fm.attributesOfItem(atPath: directory.appendingPathComponent(name).path))?[.modificationDate]
                as? Date ?? .distantPast
        }
        let entries = names.filter { $0.hasSuffix(".ext4") && !$0.hasPrefix(".") }.map { ($0, modified($0)) }
            .sorted { $0.1 > $1.1 }
        let stale = names.filter { $0.hasPrefix(".") && $0.hasSuffix(".tmp") && modified($0) < Date() - 3600 }
        for name in entries.dropFirst(capacity).map(\.0) + stale {
            try? fm.removeItem(at: directory.appendingPathComponent(name))
        }
    }
}
