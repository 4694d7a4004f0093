import Foundation
import GoldCore
import Testing

@testable import GoldImage

/// The pure halves of garbage collection and `gold image show`: which versions stay, which chunks go, what a
/// version's manifest adds up to.
@Suite struct RetentionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var versions: [Int]
        var current: Int?
        var keepLast: Int
        var pinned: Set<Int> = []
        var keep: [Int]
        var testDescription: String {
            "versions \(versions) current \(current.map(String.init) ?? "-") keep \(keepLast) pinned \(pinned.sorted())"
        }
    }

    @Test(arguments: [
        Case(versions: [1, 2, 3, 4, 5], current: 5, keepLast: 3, keep: [3, 4, 5]),
        Case(versions: [1, 2, 3, 4, 5], current: 1, keepLast: 3, keep: [1, 3, 4, 5]),
        Case(versions: [1, 2, 3, 4, 5], current: 2, keepLast: 1, pinned: [3], keep: [2, 3, 5]),
        Case(versions: [1, 2], current: nil, keepLast: 3, keep: [1, 2]),
        // The newest always stays: its number must never be handed out again.
        Case(versions: [1, 2, 3], current: 1, keepLast: 0, keep: [1, 3]),
        Case(versions: [4, 2, 9], current: 7, keepLast: 1, pinned: [8], keep: [9]),
        Case(versions: [], current: nil, keepLast: 3, keep: []),
    ])
    func retentionKeepsNewestCurrentAndPinned(_ c: Case) {
        let rule = RetentionRule(keepLast: c.keepLast, pinned: ["m": c.pinned])
        let decision = rule.decide(machine: "m", versions: c.versions, current: c.current)
        #expect(decision.keep == c.keep)
        #expect(decision.remove == Set(c.versions).subtracting(c.keep).sorted())
        #expect(Set(decision.reasons.keys) == Set(c.keep))
    }

    @Test func reasonsSayWhyAVersionStays() {
        let rule = RetentionRule(keepLast: 2, pinned: ["a": [1], "b": [1]])
        let all = rule.decide(versions: ["a": [1, 2, 3, 4], "b": [1, 2]], current: ["a": 3])
        #expect(all["a"]?.reasons == [1: [.pinned], 3: [.newest, .current], 4: [.newest]])
        #expect(all["a"]?.remove == [2])
        #expect(all["b"]?.keep == [1, 2] && all["b"]?.remove == [])
    }

    @Test func keepBelowOneIsRefusedNamingTheField() {
        let error = #expect(throws: GoldError.self) { try RetentionRule.validated(keep: 0) }
        #expect(error?.location == "keep")
        #expect(throws: Never.self) { try RetentionRule.validated(keep: 1) }
    }

    static func hash(_ n: UInt8) -> ChunkHash { ChunkHash(of: Data([n])) }

    static func manifest(_ machine: String, _ version: Int, parent: Int? = nil, _ disks: [[UInt8?]]) -> ImageManifest {
        ImageManifest(
            machine: machine, version: version, parent: parent, change: .softwareUpdate, description: "v\(version)",
            created: 1_700_000_000 + Int64(version),
            disks: disks.enumerated().map { index, chunks in
                DiskImageManifest(
                    index: index, device: nil, size: UInt64(chunks.count) * 4 - 1,
                    sha256: String(repeating: "0", count: 64),
                    chunkSize: 4, chunks: chunks.map { $0.map(hash) })
            })
    }

    @Test func unreferencedChunksAreThoseNoKeptManifestNames() {
        let stored = (1...6).map { StoredChunk(hash: Self.hash(UInt8($0)), bytes: UInt64($0) * 10) }
        let kept = [
            Self.manifest("a", 3, [[1, nil, 2], [5]]),
            Self.manifest("b", 1, [[2, 2, nil]]),
        ]
        #expect(StoredChunk.unreferenced(stored: stored, kept: kept).map(\.hash) == [3, 4, 6].map(Self.hash).sorted())
        #expect(StoredChunk.unreferenced(stored: stored, kept: []).count == 6)
        #expect(StoredChunk.unreferenced(stored: [], kept: kept).isEmpty)
    }

    @Test func detailCountsZeroRangesAndNewChunksAgainstTheParent() {
        // Chunk size 4; the last chunk of each disk is 3 bytes long.
        let parent = Self.manifest("a", 1, [[1, 2, nil, nil, 3]])
        let child = Self.manifest("a", 2, parent: 1, [[1, nil, nil, 4, 4, nil, 5], [nil, 2, 6, nil]])
        let detail = ImageVersionDetail(manifest: child, parent: parent, current: true)
        let disk0 = detail.disks[0]
        #expect(disk0.size == 27 && disk0.chunks == 7 && disk0.zeroChunks == 3)
        #expect(disk0.zeroRanges == [.init(offset: 4, length: 8), .init(offset: 20, length: 4)])
        #expect(disk0.zeroBytes == 12)
        #expect(disk0.newChunks == 2 && disk0.newBytes == 4 + 3)  // 4 (twice, counted once) and the short 5
        let disk1 = detail.disks[1]
        #expect(disk1.zeroRanges == [.init(offset: 0, length: 4), .init(offset: 12, length: 3)])
        #expect(disk1.newChunks == 1 && disk1.newBytes == 4)  // 6; 2 is the parent's
        #expect(detail.size == 27 + 15 && detail.chunks == 11 && detail.zeroBytes == 12 + 7)
        #expect(detail.newChunks == 3 && detail.newBytes == 11)
        #expect(detail.parent == 1 && detail.parentAvailable && detail.current)
        #expect(detail.change == "software-update" && detail.description == "v2")
        #expect(detail.created == Date(timeIntervalSince1970: 1_700_000_002))

        let orphan = ImageVersionDetail(manifest: child, parent: nil, current: false)
        #expect(orphan.parent == 1 && !orphan.parentAvailable)
        #expect(orphan.newChunks == nil && orphan.disks[0].newChunks == nil && orphan.disks[0].zeroBytes == 12)
    }
}
