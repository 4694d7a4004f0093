import Foundation

/// One version as `gold image show` prints it: a summary of its manifest, compared with its parent's.
public struct ImageVersionDetail: Hashable, Sendable, Codable {
    /// A run of all-zero bytes (never stored, skipped by the writer).
    public struct ZeroRange: Hashable, Sendable, Codable {
        public var offset: UInt64
        public var length: UInt64

        public init(offset: UInt64, length: UInt64) {
            self.offset = offset
            self.length = length
        }
    }

    public struct Disk: Hashable, Sendable, Codable {
        public var index: Int
        public var device: String?
        public var size: UInt64
        /// SHA-256 of the whole raw image.
        public var sha256: String
        public var chunkSize: Int
        public var chunks: Int
        public var zeroChunks: Int
        public var zeroBytes: UInt64
        public var zeroRanges: [ZeroRange]
        /// Distinct stored chunks this disk names that its version's parent does not (nil without a parent manifest).
        public var newChunks: Int?
        public var newBytes: UInt64?
    }

    public var machine: String
    public var version: Int
    public var parent: Int?
    /// False when the parent was garbage collected: new-chunk counts are then unknown.
    public var parentAvailable: Bool
    /// Why the version exists (provision, kernel-upgrade, software-update, capture).
    public var change: String
    /// What produced it, e.g. the workflow ("provision wf-…").
    public var description: String
    public var created: Date
    public var current: Bool
    /// Sum of the disks' sizes.
    public var size: UInt64
    public var chunks: Int
    public var zeroBytes: UInt64
    /// Distinct chunks of the whole version that its parent does not name.
    public var newChunks: Int?
    public var newBytes: UInt64?
    public var disks: [Disk]

    /// Summarises `manifest`; `parent` is its parent's manifest when the store still has it. Pure.
    public init(manifest: ImageManifest, parent: ImageManifest?, current: Bool) {
        let parentChunks = parent.map { Set($0.disks.flatMap { $0.chunks.compactMap { $0 } }) }
        var versionNew: [ChunkHash: UInt64] = [:]
        disks = manifest.disks.map { disk in
            var zeroRanges: [ZeroRange] = []
            var new: [ChunkHash: UInt64] = [:]
            for (i, hash) in disk.chunks.enumerated() {
                let length = UInt64(disk.length(ofChunk: i))
                guard let hash else {
                    let offset = UInt64(i) * UInt64(disk.chunkSize)
                    if let last = zeroRanges.last, last.offset + last.length == offset {
                        zeroRanges[zeroRanges.count - 1].length += length
                    } else {
                        zeroRanges.append(ZeroRange(offset: offset, length: length))
                    }
                    continue
                }
                if let parentChunks, !parentChunks.contains(hash) { new[hash] = length }
            }
            versionNew.merge(new) { a, _ in a }
            return Disk(
                index: disk.index, device: disk.device, size: disk.size, sha256: disk.sha256, chunkSize: disk.chunkSize,
                chunks: disk.chunks.count, zeroChunks: disk.chunks.filter { $0 == nil }.count,
                zeroBytes: zeroRanges.reduce(0) { $0 + $1.length }, zeroRanges: zeroRanges,
                newChunks: parentChunks == nil ? nil : new.count,
                newBytes: parentChunks == nil ? nil : new.values.reduce(0, +))
        }
        self.machine = manifest.machine
        self.version = manifest.version
        self.parent = manifest.parent
        self.parentAvailable = parent != nil
        self.change = manifest.change.rawValue
        self.description = manifest.description
        self.created = Date(timeIntervalSince1970: TimeInterval(manifest.created))
        self.current = current
        self.size = disks.reduce(0) { $0 + $1.size }
        self.chunks = disks.reduce(0) { $0 + $1.chunks }
        self.zeroBytes = disks.reduce(0) { $0 + $1.zeroBytes }
        self.newChunks = parentChunks == nil ? nil : versionNew.count
        self.newBytes = parentChunks == nil ? nil : versionNew.values.reduce(0, +)
    }
}

extension ImageStore {
    /// A version's summary; its parent's manifest is read when the store still has it.
    public func detail(machine: String, version: Int) throws -> ImageVersionDetail {
        let m = try manifest(machine: machine, version: version)
        let parent = try m.parent.flatMap { p in
            try list(machine: machine).contains(p) ? manifest(machine: machine, version: p) : nil
        }
        return ImageVersionDetail(manifest: m, parent: parent, current: try currentVersion(machine: machine) == version)
    }
}
