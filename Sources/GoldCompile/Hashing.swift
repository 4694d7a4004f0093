import Crypto
import Foundation

/// SHA-256 of files and directory trees, read in chunks so a 140 MB kernel tarball never sits in memory.
public enum Hashing {
    /// Lowercase hex SHA-256 of a file's bytes.
    public static func sha256(file path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CompileError(.missingInput, "cannot read \(path)")
        }
        defer { try? handle.close() }
        var digest = SHA256()
        while true {
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            digest.update(data: chunk)
        }
        return hex(digest.finalize())
    }

    public static func sha256(_ data: Data) -> String { hex(SHA256.hash(data: data)) }

    /// A digest of a tree's content: every entry's relative path, type, executable bit and content (or link
    /// target), in sorted order. Ownership and times are left out, so a copy of the tree hashes the same.
    /// `.git` directories are left out.
    public static func sha256(directory root: String) throws -> String {
        var listing = ""
        for entry in try walk(root) {
            switch entry.type {
            case .directory: listing += "d \(entry.path)\n"
            case .symlink(let target): listing += "l \(entry.path) -> \(target)\n"
            case .file(let mode):
                let exec = mode & 0o111 != 0 ? "x" : "-"
                listing += "f\(exec) \(entry.path) \(try sha256(file: root + "/" + entry.path))\n"
            }
        }
        return sha256(Data(listing.utf8))
    }

    /// An entry of a tree, by relative path.
    public struct Entry: Hashable, Sendable {
        public enum EntryType: Hashable, Sendable {
            case directory
            case file(mode: UInt16)
            case symlink(String)
        }
        public var path: String
        public var type: EntryType
    }

    /// Every entry under `root` (not `root` itself), sorted by path, `.git` left out; symlinks are not followed.
    public static func walk(_ root: String) throws -> [Entry] {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
            throw CompileError(.missingInput, "\(root) is not a directory")
        }
        var entries: [Entry] = []
        func visit(_ relative: String) throws {
            let full = relative.isEmpty ? root : root + "/" + relative
            for name in try fm.contentsOfDirectory(atPath: full).sorted() where name != ".git" {
                let rel = relative.isEmpty ? name : relative + "/" + name
                let attributes = try fm.attributesOfItem(atPath: root + "/" + rel)
                let type = attributes[.type] as? FileAttributeType
                if type == .typeSymbolicLink {
                    entries.append(
                        Entry(path: rel, type: .symlink(try fm.destinationOfSymbolicLink(atPath: root + "/" + rel))))
                } else if type == .typeDirectory {
                    entries.append(Entry(path: rel, type: .directory))
                    try visit(rel)
                } else if type == .typeRegular {
                    let mode = UInt16(truncatingIfNeeded: integer(attributes[.posixPermissions]) ?? 0o644)
                    entries.append(Entry(path: rel, type: .file(mode: mode)))
                }
            }
        }
        try visit("")
        return entries.sorted { $0.path < $1.path }
    }

    /// A file attribute as an integer, whether Foundation hands back an `Int`, a `UInt64` or an `NSNumber`.
    static func integer(_ value: Any?) -> Int? {
        switch value {
        case let value as Int: value
        case let value as UInt64: Int(value)
        case let value as NSNumber: value.intValue
        default: nil
        }
    }

    /// A file's size in bytes.
    static func size(_ path: String) throws -> UInt64 {
        UInt64(integer(try FileManager.default.attributesOfItem(atPath: path)[.size]) ?? 0)
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
