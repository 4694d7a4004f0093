import Crypto
import Foundation
import GoldCore

/// The file format of an exported image.
public enum ImageFormat: String, Hashable, Sendable, Codable, CaseIterable { case raw, qcow2 }

/// Which versions garbage collection keeps, besides every machine's current version (always kept).
public struct RetentionRule: Hashable, Sendable {
    /// The newest `keepLast` versions of every machine.
    public var keepLast: Int
    /// Versions kept regardless, per machine.
    public var pinned: [String: Set<Int>]

    public init(keepLast: Int, pinned: [String: Set<Int>] = [:]) {
        self.keepLast = keepLast
        self.pinned = pinned
    }
}

/// What garbage collection removed.
public struct GarbageCollection: Hashable, Sendable {
    public var removedVersions: [String: [Int]]
    public var removedChunks: Int
    public var bytesFreed: UInt64
}

extension ImageStore {
    /// Writes disk `disk` of a version to `destination` as a sparse raw file or (through `qemu-img convert`) qcow2.
    /// The raw bytes are checked against the manifest's SHA-256 before anything is renamed into place.
    public func export(machine: String, version: Int, disk: Int = 0, to destination: URL, format: ImageFormat = .raw)
        async throws
    {
        let m = try manifest(machine: machine, version: version)
        guard let d = m.disks.first(where: { $0.index == disk }) else {
            throw GoldError(.notFound, "machine \(machine) version \(version) has no disk \(disk)")
        }
        let raw = destination.deletingLastPathComponent().appendingPathComponent(
            ".\(destination.lastPathComponent).raw.partial")
        defer { try? FileManager.default.removeItem(at: raw) }
        try writeRaw(d, to: raw)
        switch format {
        case .raw:
            try FileManager.default.moveItem(at: raw, to: destination, replacing: true)
        case .qcow2:
            let out = destination.deletingLastPathComponent().appendingPathComponent(
                ".\(destination.lastPathComponent).partial")
            defer { try? FileManager.default.removeItem(at: out) }
            try await runner.check(
                "qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw.path, out.path], context: destination.path)
            try FileManager.default.moveItem(at: out, to: destination, replacing: true)
        }
    }

    private func writeRaw(_ d: DiskImageManifest, to url: URL) throws {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: url.path) else {
            throw AtomicFile.ioError("cannot create", url)
        }
        defer { try? handle.close() }
        var sha = Crypto.SHA256()
        var zero: Data?
        for (i, hash) in d.chunks.enumerated() {
            let offset = UInt64(i) * UInt64(d.chunkSize)
            if let hash {
                let bytes = try chunks.get(hash)
                sha.update(data: bytes)
                try handle.seek(toOffset: offset)
                try handle.write(contentsOf: bytes)
            } else {
                let length = d.length(ofChunk: i)
                if zero?.count != length { zero = Data(count: length) }
                sha.update(data: zero!)
            }
        }
        try handle.truncate(atOffset: d.size)
        try handle.synchronize()
        let digest = sha.finalize().hexString
        guard digest == d.sha256 else {
            throw GoldError(
                .io, "exported disk \(d.index) hashes to \(digest), manifest says \(d.sha256)", at: url.path)
        }
    }

    /// Removes versions the rule does not keep and every chunk no remaining version names; returns what it freed.
    ///
    /// Versions go first (manifest, then file list), chunks after: a crash in between leaves only unreferenced
    /// chunks, which the next run removes.
    @discardableResult
    public func garbageCollect(keep rule: RetentionRule) throws -> GarbageCollection {
        try withWriteLock {
            var removed: [String: [Int]] = [:]
            var referenced = Set<ChunkHash>()
            for machine in try machinesIncludingEmpty() {
                let versions = try list(machine: machine)
                var kept = Set(versions.suffix(max(rule.keepLast, 0)))
                if let current = try currentVersion(machine: machine) { kept.insert(current) }
                kept.formUnion(rule.pinned[machine] ?? [])
                for version in versions {
                    if kept.contains(version) {
                        for disk in try manifest(machine: machine, version: version).disks {
                            referenced.formUnion(disk.chunks.compactMap { $0 })
                        }
                    } else {
                        try FileManager.default.removeItem(at: manifestURL(machine, version))
                        try? FileManager.default.removeItem(at: filesURL(machine, version))
                        removed[machine, default: []].append(version)
                    }
                }
            }
            var freed: UInt64 = 0
            var count = 0
            for (hash, _) in try chunks.all() where !referenced.contains(hash) {
                freed += try chunks.remove(hash)
                count += 1
            }
            chunks.removeLeftovers()
            return GarbageCollection(removedVersions: removed, removedChunks: count, bytesFreed: freed)
        }
    }

    private func machinesIncludingEmpty() throws -> [String] {
        let dir = root.appendingPathComponent("machines")
        guard FileManager.default.fileExists(atPath: dir.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    }
}

extension FileManager {
    func moveItem(at source: URL, to destination: URL, replacing: Bool) throws {
        if replacing, fileExists(atPath: destination.path) { try removeItem(at: destination) }
        try moveItem(at: source, to: destination)
    }
}
