import Foundation
import GoldCore

/// Which versions garbage collection keeps: the newest `keepLast` of every machine, every machine's current
/// version, and pinned versions (a workflow in flight writes or restores them).
///
/// The newest version of a machine is always kept, even with `keepLast` 0: the next version's number is the newest
/// plus one, so removing the newest would hand its number (and any stale file list under it) to a different image.
public struct RetentionRule: Hashable, Sendable {
    /// Garbage collection's default: the newest three versions of every machine.
    public static let defaultKeepLast = 3

    /// The newest `keepLast` versions of every machine.
    public var keepLast: Int
    /// Versions kept regardless, per machine.
    public var pinned: [String: Set<Int>]

    public init(keepLast: Int = RetentionRule.defaultKeepLast, pinned: [String: Set<Int>] = [:]) {
        self.keepLast = keepLast
        self.pinned = pinned
    }

    /// A rule from user input: `keep` must be at least 1.
    public static func validated(keep: Int, pinned: [String: Set<Int>] = [:], field: String = "keep") throws
        -> RetentionRule
    {
        guard keep >= 1 else {
            throw GoldError(
                .invalidInput,
                "'\(field)' must be at least 1 (the newest version of a machine is always kept), not \(keep)",
                at: field)
        }
        return RetentionRule(keepLast: keep, pinned: pinned)
    }

    /// What the rule keeps and removes of one machine's versions. Pure: no store is read.
    public func decide(machine: String, versions: [Int], current: Int?) -> RetentionDecision {
        let sorted = Array(Set(versions)).sorted()
        var reasons: [Int: Set<RetentionDecision.Reason>] = [:]
        for version in sorted.suffix(max(keepLast, 1)) { reasons[version, default: []].insert(.newest) }
        if let current, sorted.contains(current) { reasons[current, default: []].insert(.current) }
        for version in pinned[machine] ?? [] where sorted.contains(version) {
            reasons[version, default: []].insert(.pinned)
        }
        return RetentionDecision(
            machine: machine, keep: sorted.filter { reasons[$0] != nil }, remove: sorted.filter { reasons[$0] == nil },
            reasons: reasons)
    }

    /// The decision for every machine: `versions` and `current` per machine.
    public func decide(versions: [String: [Int]], current: [String: Int]) -> [String: RetentionDecision] {
        var out: [String: RetentionDecision] = [:]
        for (machine, list) in versions {
            out[machine] = decide(machine: machine, versions: list, current: current[machine])
        }
        return out
    }
}

/// One machine's versions split by a ``RetentionRule``.
public struct RetentionDecision: Hashable, Sendable {
    /// Why a version is kept.
    public enum Reason: String, Hashable, Sendable, Codable, Comparable {
        case newest, current, pinned
        public static func < (lhs: Reason, rhs: Reason) -> Bool { lhs.rawValue < rhs.rawValue }
    }
    public var machine: String
    /// Oldest first.
    public var keep: [Int]
    /// Oldest first.
    public var remove: [Int]
    /// Every kept version's reasons.
    public var reasons: [Int: Set<Reason>]
}

/// A chunk file in the store and its size.
public struct StoredChunk: Hashable, Sendable {
    public var hash: ChunkHash
    public var bytes: UInt64

    public init(hash: ChunkHash, bytes: UInt64) {
        self.hash = hash
        self.bytes = bytes
    }

    /// The chunks no kept manifest names, sorted by hash. Pure: chunks are content-addressed, so a kept version
    /// needs exactly the chunks its own manifest lists (never its parent's).
    public static func unreferenced(stored: [StoredChunk], kept: [ImageManifest]) -> [StoredChunk] {
        var referenced = Set<ChunkHash>()
        for manifest in kept {
            for disk in manifest.disks { referenced.formUnion(disk.chunks.compactMap { $0 }) }
        }
        return stored.filter { !referenced.contains($0.hash) }.sorted { $0.hash < $1.hash }
    }
}
