import Foundation

/// What differs between two versions chunk by chunk: for versions without a file list (captured ones), what
/// `gold image diff` can still say. Pure.
public struct ChunkDiff: Hashable, Sendable, Codable {
    /// A run of bytes whose chunks differ.
    public struct Range: Hashable, Sendable, Codable {
        public var offset: UInt64
        public var length: UInt64
        public init(offset: UInt64, length: UInt64) {
            self.offset = offset
            self.length = length
        }
    }

    public struct Disk: Hashable, Sendable, Codable {
        public var index: Int
        /// The disk's size in the older and the newer version (0 where that version has no such disk).
        public var sizes: [UInt64]
        public var changedChunks: Int
        public var changedBytes: UInt64
        public var ranges: [Range]
    }

    public var machine: String
    public var from: Int
    public var to: Int
    public var disks: [Disk]

    public var changedChunks: Int { disks.reduce(0) { $0 + $1.changedChunks } }
    public var changedBytes: UInt64 { disks.reduce(0) { $0 + $1.changedBytes } }

    /// Chunk positions whose hash (or zero-ness, or presence past the shorter disk's end) differs, as byte ranges
    /// of the newer version; a disk only one version has is one range over all of it.
    public init(from old: ImageManifest, to new: ImageManifest) {
        machine = new.machine
        from = old.version
        to = new.version
        let indices = Set(old.disks.map(\.index)).union(new.disks.map(\.index)).sorted()
        disks = indices.map { index in
            let a = old.disks.first { $0.index == index }
            let b = new.disks.first { $0.index == index }
            let sizes = [a?.size ?? 0, b?.size ?? 0]
            guard let a, let b, a.chunkSize == b.chunkSize else {
                let size = max(sizes[0], sizes[1])
                let chunks = max(a?.chunks.count ?? 0, b?.chunks.count ?? 0)
                return Disk(
                    index: index, sizes: sizes, changedChunks: chunks, changedBytes: size,
                    ranges: size == 0 ? [] : [Range(offset: 0, length: size)])
            }
            var ranges: [Range] = []
            var changed = 0
            var bytes: UInt64 = 0
            let reference = b.size >= a.size ? b : a
            for i in 0..<max(a.chunks.count, b.chunks.count) {
                let both = i < a.chunks.count && i < b.chunks.count
                if both && a.length(ofChunk: i) == b.length(ofChunk: i) && a.chunks[i] == b.chunks[i] { continue }
                changed += 1
                let offset = UInt64(i) * UInt64(reference.chunkSize)
                let length = UInt64(reference.length(ofChunk: i))
                bytes += length
                if let last = ranges.last, last.offset + last.length == offset {
                    ranges[ranges.count - 1].length += length
                } else {
                    ranges.append(Range(offset: offset, length: length))
                }
            }
            return Disk(index: index, sizes: sizes, changedChunks: changed, changedBytes: bytes, ranges: ranges)
        }
    }
}

extension ImageStore {
    /// The chunk-level difference between two versions of a machine.
    public func chunkDiff(machine: String, v1: Int, v2: Int) throws -> ChunkDiff {
        ChunkDiff(from: try manifest(machine: machine, version: v1), to: try manifest(machine: machine, version: v2))
    }
}
