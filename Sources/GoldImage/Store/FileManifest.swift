import Crypto
import Foundation
import GoldCore

/// The files of one assembled filesystem: recorded by the builder beside the image manifest so that two
/// versions can be compared by path without reading their images.
///
/// Versions captured from a disk can be listed later with `debugfs -R 'ls -l -p'` / `rdump` on the image at
/// the partition's offset (`debugfs` accepts `image?offset=BYTES` via `-o`/`io_options`); not done yet.
public struct FileManifest: Hashable, Sendable, Codable {
    public struct Entry: Hashable, Sendable, Codable {
        public enum Kind: String, Hashable, Sendable, Codable { case file, directory, symlink, other }
        /// Absolute path inside the machine (`/etc/hostname`), whichever partition holds it.
        public var path: String
        public var kind: Kind
        public var mode: UInt32
        public var uid: UInt32
        public var gid: UInt32
        public var size: UInt64
        /// SHA-256 of a regular file's content.
        public var sha256: String?
        /// A symlink's target.
        public var target: String?
    }

    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries.sorted { $0.path < $1.path } }

    /// Lists `directory` as if it were mounted at `mountPoint`.
    public static func scan(_ directory: URL, mountPoint: String = "/") throws -> FileManifest {
        var entries: [Entry] = []
        let base = directory.standardizedFileURL.path
        func walk(_ relative: String) throws {
            let full = relative.isEmpty ? base : base + "/" + relative
            let names = try FileManager.default.contentsOfDirectory(atPath: full).sorted()
            for name in names {
                let rel = relative.isEmpty ? name : relative + "/" + name
                let path = base + "/" + rel
                var st = stat()
                guard lstat(path, &st) == 0 else { throw AtomicFile.ioError("cannot stat", URL(fileURLWithPath: path)) }
                let inMachine = mountPoint == "/" ? "/" + rel : mountPoint + "/" + rel
                let type = st.st_mode & S_IFMT
                var entry = Entry(
                    path: inMachine, kind: .other, mode: UInt32(st.st_mode & 0o7777), uid: st.st_uid, gid: st.st_gid,
                    size: UInt64(st.st_size), sha256: nil, target: nil)
                switch type {
                case S_IFREG:
                    entry.kind = .file
                    entry.sha256 = try hashFile(path)
                case S_IFDIR:
                    entry.kind = .directory
                    entry.size = 0
                    entries.append(entry)
                    try walk(rel)
                    continue
                case S_IFLNK:
                    entry.kind = .symlink
                    entry.target = try FileManager.default.destinationOfSymbolicLink(atPath: path)
                default:
                    entry.size = 0
                }
                entries.append(entry)
            }
        }
        try walk("")
        return FileManifest(entries: entries)
    }

    static func hashFile(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw GoldError(.io, "cannot read \(path)", at: path)
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty { hasher.update(data: data) }
        return hasher.finalize().hexString
    }

    /// Merges the manifests of several filesystems of one machine.
    public static func merged(_ parts: [FileManifest]) -> FileManifest {
        FileManifest(entries: parts.flatMap(\.entries))
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

/// A path whose content, metadata or presence differs between two versions.
public struct FileChange: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable, Codable { case added, removed, modified }
    public var path: String
    public var kind: Kind
    public var description: String { "\(kind.rawValue) \(path)" }
}

extension FileManifest {
    /// Paths added, removed or modified (content, mode, owner, link target or type) from `self` to `other`.
    public func changes(to other: FileManifest) -> [FileChange] {
        let old = Dictionary(entries.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        let new = Dictionary(other.entries.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [FileChange] = []
        for (path, entry) in new {
            if let before = old[path] {
                if before != entry { out.append(FileChange(path: path, kind: .modified)) }
            } else {
                out.append(FileChange(path: path, kind: .added))
            }
        }
        for path in old.keys where new[path] == nil { out.append(FileChange(path: path, kind: .removed)) }
        return out.sorted { $0.path < $1.path }
    }
}
