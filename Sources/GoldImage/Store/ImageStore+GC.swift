import Foundation
import GoldCore
import Logging

/// What garbage collection removed, or on a dry run would remove.
public struct GarbageCollection: Hashable, Sendable, Codable {
    /// One machine's versions after the rule.
    public struct Machine: Hashable, Sendable, Codable {
        public var machine: String
        public var current: Int?
        public var kept: [Int]
        public var removed: [Int]
        /// Why each kept version stays ("newest", "current", "pinned"), by version number.
        public var reasons: [String: [String]]

        public init(machine: String, current: Int?, kept: [Int], removed: [Int], reasons: [String: [String]]) {
            self.machine = machine
            self.current = current
            self.kept = kept
            self.removed = removed
            self.reasons = reasons
        }
    }
    public var dryRun: Bool
    public var keepLast: Int
    public var machines: [Machine]
    public var removedChunks: Int
    public var bytesFreed: UInt64
    /// What the store holds afterwards (on a dry run: would hold).
    public var remainingChunks: Int
    public var remainingBytes: UInt64

    public init(
        dryRun: Bool, keepLast: Int, machines: [Machine], removedChunks: Int, bytesFreed: UInt64, remainingChunks: Int,
        remainingBytes: UInt64
    ) {
        self.dryRun = dryRun
        self.keepLast = keepLast
        self.machines = machines
        self.removedChunks = removedChunks
        self.bytesFreed = bytesFreed
        self.remainingChunks = remainingChunks
        self.remainingBytes = remainingBytes
    }

    /// Removed versions by machine (machines that lose none are left out).
    public var removedVersions: [String: [Int]] {
        Dictionary(uniqueKeysWithValues: machines.filter { !$0.removed.isEmpty }.map { ($0.machine, $0.removed) })
    }
}

extension ImageStore {
    /// Removes the versions `rule` does not keep, then every chunk no remaining version names; returns what it freed.
    ///
    /// Crash safety: versions go first. A version disappears atomically when its manifest is unlinked; the machine
    /// directories are fsynced before any chunk is touched, so a crash at any point leaves every remaining manifest
    /// with all of its chunks, and at worst chunks nothing names, which the next run removes.
    ///
    /// Concurrency: the whole run holds the store's writer lock (``StoreLock``), which every import holds from
    /// choosing its version number to renaming its manifest into place. That is what makes deleting chunks sound:
    /// an import that found a chunk already present writes nothing, so "only delete chunks older than the
    /// collection" would not protect it, and neither would any reference count read before its manifest
    /// exists. Under the lock no import is between those points: one that started before us has its manifest
    /// (and so its references) in place, one that starts after us waits and writes every chunk it does not
    /// find. Readers take no lock; one streaming a version this run removes fails with a missing chunk, never
    /// with wrong bytes, since every chunk is verified on read.
    @discardableResult
    public func garbageCollect(keep rule: RetentionRule, dryRun: Bool = false) throws -> GarbageCollection {
        try withWriteLock {
            var machines: [GarbageCollection.Machine] = []
            var kept: [ImageManifest] = []
            var removals: [(machine: String, version: Int)] = []
            var orphanFileLists: [URL] = []
            for machine in try machineDirectories() {
                let versions = try list(machine: machine)
                let current = try currentVersion(machine: machine)
                let decision = rule.decide(machine: machine, versions: versions, current: current)
                // A kept manifest that cannot be read stops the run before anything is deleted: its chunks are unknown.
                for version in decision.keep { kept.append(try manifest(machine: machine, version: version)) }
                removals += decision.remove.map { (machine, $0) }
                orphanFileLists += try fileListsWithoutManifest(machine: machine, versions: Set(versions))
                machines.append(
                    .init(
                        machine: machine, current: current, kept: decision.keep, removed: decision.remove,
                        reasons: Dictionary(
                            uniqueKeysWithValues: decision.reasons.map {
                                ("\($0.key)", $0.value.sorted().map(\.rawValue))
                            })))
            }
            if !dryRun {
                for removal in removals {
                    try FileManager.default.removeItem(at: manifestURL(removal.machine, removal.version))
                }
                for machine in Set(removals.map(\.machine)) { AtomicFile.syncDirectory(machineDirectory(machine)) }
                for removal in removals {
                    try? FileManager.default.removeItem(at: filesURL(removal.machine, removal.version))
                }
                for url in orphanFileLists { try? FileManager.default.removeItem(at: url) }
            }
            let stored = try chunks.all().map { StoredChunk(hash: $0.hash, bytes: $0.bytes) }
            let garbage = StoredChunk.unreferenced(stored: stored, kept: kept)
            var freed: UInt64 = 0
            for chunk in garbage {
                freed += dryRun ? chunk.bytes : try chunks.remove(chunk.hash)
            }
            if !dryRun { chunks.removeLeftovers() }
            let storedBytes = stored.reduce(UInt64(0)) { $0 + $1.bytes }
            let result = GarbageCollection(
                dryRun: dryRun, keepLast: max(rule.keepLast, 1), machines: machines, removedChunks: garbage.count,
                bytesFreed: freed, remainingChunks: stored.count - garbage.count,
                remainingBytes: storedBytes - min(storedBytes, garbage.reduce(0) { $0 + $1.bytes }))
            logger.info(
                "image store garbage collection",
                metadata: [
                    "dryRun": "\(dryRun)", "versions": "\(removals.count)", "chunks": "\(garbage.count)",
                    "bytes": "\(freed)",
                ])
            return result
        }
    }

    /// The directories under `machines/` that are valid machine names (with or without versions).
    func machineDirectories() throws -> [String] {
        let dir = root.appendingPathComponent("machines")
        guard FileManager.default.fileExists(atPath: dir.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { name in
            var isDirectory: ObjCBool = false
            return (try? Self.validate(machine: name)) != nil
                && FileManager.default.fileExists(
                    atPath: dir.appendingPathComponent(name).path, isDirectory: &isDirectory)
                && isDirectory.boolValue
        }.sorted()
    }

    /// `<v>.files.json` left by an import that stopped before its manifest (only called under the writer lock).
    private func fileListsWithoutManifest(machine: String, versions: Set<Int>) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: machineDirectory(machine).path).compactMap { name in
            guard name.hasSuffix(".files.json"), let v = Int(name.dropLast(".files.json".count)), !versions.contains(v)
            else { return nil }
            return filesURL(machine, v)
        }
    }
}
