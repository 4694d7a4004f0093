import Foundation

/// The initramfs as a set of entries keyed by path, laid out merged-/usr (`bin`, `sbin`, `lib`, `lib64` are
/// links into `usr/`, as on Debian 12), with host files copied at the paths `ldd` and `which` report.
public struct ArchiveTree: Sendable {
    public private(set) var entries: [String: ArchiveEntry] = [:]
    static let mergedTopLevel = ["bin", "sbin", "lib", "lib64"]

    public init() {
        for top in Self.mergedTopLevel {
            insert(.symlink(top, to: "usr/\(top)"))
            insert(.directory("usr/\(top)"))
        }
    }

    /// Adds `entry` and any missing parent directories; an existing entry is kept unless `replace`.
    public mutating func insert(_ entry: ArchiveEntry, replace: Bool = true) {
        if !replace, entries[entry.path] != nil { return }
        var parent = ""
        for component in entry.path.split(separator: "/").dropLast() {
            parent = parent.isEmpty ? String(component) : parent + "/" + component
            if entries[parent] == nil { entries[parent] = .directory(parent) }
        }
        entries[entry.path] = entry
    }

    /// The archive path of a host path: `/lib/x86_64-linux-gnu/libc.so.6` → `usr/lib/x86_64-linux-gnu/libc.so.6`.
    public static func archivePath(ofHostPath path: String) -> String {
        let components = lexicallyNormalised(path).split(separator: "/").map(String.init)
        guard let first = components.first else { return "" }
        return (mergedTopLevel.contains(first) ? ["usr"] + components : components).joined(separator: "/")
    }

    /// Copies a host file (or directory entry) to its own path, recreating every symbolic link on the way
    /// (`/lib64/ld-linux-x86-64.so.2` → its target), so programs find their loader and libraries where `ldd` did.
    public mutating func addHostPath(_ hostPath: String) throws {
        var path = Self.lexicallyNormalised(hostPath)
        for _ in 0..<40 {
            let components = path.split(separator: "/").map(String.init)
            var resolved = ""
            var next: String?
            for (index, component) in components.enumerated() {
                let candidate = resolved + "/" + component
                if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: candidate) {
                    // The host's own merged-/usr links are already part of the layout.
                    if !(resolved.isEmpty && Self.mergedTopLevel.contains(component)) {
                        insert(.symlink(Self.archivePath(ofHostPath: candidate), to: target))
                    }
                    let rest = components[(index + 1)...].joined(separator: "/")
                    let base = target.hasPrefix("/") ? target : resolved + "/" + target
                    next = Self.lexicallyNormalised(rest.isEmpty ? base : base + "/" + rest)
                    break
                }
                resolved = candidate
            }
            guard let next else {
                try addResolvedHostPath(path)
                return
            }
            path = next
        }
        throw NetbootError(.badInput, "too many symbolic links resolving \(hostPath)")
    }

    /// Copies a host file to a chosen archive path, keeping its permission bits.
    public mutating func addHostFile(_ hostPath: String, at archivePath: String) throws {
        insert(
            ArchiveEntry(
                path: archivePath, kind: .hostFile(path: hostPath), permissions: try Self.permissions(of: hostPath)))
    }

    private mutating func addResolvedHostPath(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw NetbootError(.missingInput, "\(path) does not exist on the build host")
        }
        if isDirectory.boolValue {
            insert(.directory(Self.archivePath(ofHostPath: path)))
        } else {
            try addHostFile(path, at: Self.archivePath(ofHostPath: path))
        }
    }

    static func permissions(of path: String) throws -> UInt32 {
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            return (attributes[.posixPermissions] as? NSNumber)?.uint32Value ?? 0o644
        } catch {
            throw NetbootError(.missingInput, "cannot read \(path): \(error.localizedDescription)")
        }
    }

    /// Entries in byte order of their paths: parents before children, the same order on every build.
    public var sortedEntries: [ArchiveEntry] {
        entries.values.sorted { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
    }

    /// `/a/./b/../c//` → `/a/c`, without touching the file system.
    static func lexicallyNormalised(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }
}
