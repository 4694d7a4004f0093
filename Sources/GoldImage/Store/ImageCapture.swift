import Foundation
import GoldCore

/// Capturing a machine's disks as a new image version: what the agent and the director say to each other.
///
/// The agent reads each disk in the store's chunk size and hashes every chunk, asks which hashes the store lacks
/// (one request with the list), uploads only those (each checked against its hash on arrival), then commits the
/// manifest; the version exists only from the commit on.
public enum ImageCapture {
    /// One disk the agent is to read: the fleet file's device (or serial), or the parent version's device.
    public struct Disk: Hashable, Sendable, Codable {
        public var index: Int
        public var device: String?
        public var serial: String?

        public init(index: Int, device: String?, serial: String? = nil) {
            self.index = index
            self.device = device
            self.serial = serial
        }
    }

    /// `POST /v1/images/{machine}/captures`: a session the chunks and the commit belong to.
    public struct Session: Hashable, Sendable, Codable {
        public var id: String
        public var machine: String
        /// The machine's current version when the session began: the captured version's parent.
        public var parent: Int?
        /// Chunks are read, hashed and uploaded in this size (the store's).
        public var chunkSize: Int
        public var disks: [Disk]

        public init(id: String, machine: String, parent: Int?, chunkSize: Int, disks: [Disk]) {
            self.id = id
            self.machine = machine
            self.parent = parent
            self.chunkSize = chunkSize
            self.disks = disks
        }
    }

    /// `POST …/missing`: hashes as text, so a bad one is named by its position.
    public struct MissingRequest: Hashable, Sendable, Codable {
        public var chunks: [String]
        public init(chunks: [String]) { self.chunks = chunks }
    }

    public struct MissingAnswer: Hashable, Sendable, Codable {
        /// The asked hashes the store does not hold, in the order asked, each once.
        public var missing: [ChunkHash]
        public init(missing: [ChunkHash]) { self.missing = missing }
    }

    /// The answer to one chunk upload.
    public struct Receipt: Hashable, Sendable, Codable {
        public var sha256: ChunkHash
        /// False when the store already held the chunk (nothing was written).
        public var stored: Bool
        public init(sha256: ChunkHash, stored: Bool) {
            self.sha256 = sha256
            self.stored = stored
        }
    }

    /// `POST …/commit`: every disk's manifest (ordered chunk hashes, nil for all-zero chunks, size, SHA-256).
    public struct Commit: Hashable, Sendable, Codable {
        public var disks: [DiskImageManifest]
        public var description: String?
        public init(disks: [DiskImageManifest], description: String? = nil) {
            self.disks = disks
            self.description = description
        }
    }

    /// What a commit recorded; the upload counts are the director's own (what arrived in this session).
    public struct Result: Hashable, Sendable, Codable {
        public var machine: String
        public var version: Int
        public var parent: Int?
        public var change: String
        public var current: Bool
        public var disks: Int
        public var size: UInt64
        public var chunks: Int
        public var zeroChunks: Int
        /// Chunks uploaded in this session that the store did not hold.
        public var uploadedChunks: Int
        public var uploadedBytes: UInt64
        /// Non-zero chunks of the version the store held before the session.
        public var alreadyStored: Int

        public init(
            machine: String, version: Int, parent: Int?, change: String, current: Bool, disks: Int, size: UInt64,
            chunks: Int,
            zeroChunks: Int, uploadedChunks: Int, uploadedBytes: UInt64, alreadyStored: Int
        ) {
            self.machine = machine
            self.version = version
            self.parent = parent
            self.change = change
            self.current = current
            self.disks = disks
            self.size = size
            self.chunks = chunks
            self.zeroChunks = zeroChunks
            self.uploadedChunks = uploadedChunks
            self.uploadedBytes = uploadedBytes
            self.alreadyStored = alreadyStored
        }
    }

    /// The disks to capture: the fleet file's layout when it names disks, else the parent version's disks.
    public static func disks(spec: [DiskSpec], parent: ImageManifest?) -> [Disk] {
        if !spec.isEmpty {
            return spec.enumerated().map {
                Disk(index: $0.offset, device: $0.element.device, serial: $0.element.serial)
            }
        }
        return (parent?.disks ?? []).map { Disk(index: $0.index, device: $0.device) }
    }

    /// New chunk bytes a machine may upload before a commit: twice its disks (the largest of the fleet file's sizes,
    /// the parent version's and those its agent reported at check-in, as the agent reads whole devices: a capture
    /// retried once uploads at most that), plus one chunk.
    public static func uploadQuota(spec: [DiskSpec], parent: ImageManifest?, reported: [UInt64] = [], chunkSize: Int)
        -> UInt64
    {
        func sum(_ sizes: [UInt64]) -> UInt64 {
            sizes.reduce(0) { total, size in
                let (next, overflow) = total.addingReportingOverflow(size)
                return overflow ? .max : next
            }
        }
        let disks = max(sum(spec.map(\.size.bytes)), sum(parent?.disks.map(\.size) ?? []), sum(reported))
        let (twice, overflow) = disks.multipliedReportingOverflow(by: 2)
        guard !overflow else { return .max }
        let (quota, over) = twice.addingReportingOverflow(UInt64(max(0, chunkSize)))
        return over ? .max : quota
    }

    /// Checks a commit's disks before any chunk is read; errors name the field (`body.disks[1].chunks`).
    public static func validate(_ disks: [DiskImageManifest], chunkSize: Int) throws {
        guard !disks.isEmpty else {
            throw GoldError(.invalidInput, "a capture needs at least one disk", at: "body.disks")
        }
        guard disks.count <= 64 else {
            throw GoldError(.invalidInput, "at most 64 disks, not \(disks.count)", at: "body.disks")
        }
        for (i, disk) in disks.enumerated() {
            let at = "body.disks[\(i)]"
            guard disk.index == i else {
                throw GoldError(
                    .invalidInput, "disks are listed in order: index must be \(i), not \(disk.index)", at: at + ".index"
                )
            }
            if let device = disk.device {
                guard device.hasPrefix("/"), device.count <= 256,
                    !device.contains(where: { $0.isWhitespace || $0 == "\0" })
                else {
                    throw GoldError(
                        .invalidInput, "device must be an absolute path without spaces, not '\(device)'",
                        at: at + ".device")
                }
            }
            guard disk.size > 0, disk.size <= ByteSize.maximum.bytes else {
                throw GoldError(
                    .invalidInput, "size must be 1 byte to \(ByteSize.maximum), not \(disk.size)", at: at + ".size")
            }
            guard disk.chunkSize == chunkSize else {
                throw GoldError(
                    .invalidInput, "chunkSize must be the store's, \(chunkSize), not \(disk.chunkSize)",
                    at: at + ".chunkSize")
            }
            let expected = Arithmetic.ceilDivide(disk.size, UInt64(chunkSize)) ?? 0
            guard UInt64(disk.chunks.count) == expected else {
                throw GoldError(
                    .invalidInput,
                    "\(disk.size) bytes in chunks of \(chunkSize) are \(expected) chunks, not \(disk.chunks.count)",
                    at: at + ".chunks")
            }
            guard ChunkHash(disk.sha256) != nil else {
                throw GoldError(
                    .invalidInput, "sha256 must be 64 lowercase hex digits, not '\(disk.sha256)'", at: at + ".sha256")
            }
        }
    }

    /// The distinct stored chunks the disks name, in first-use order.
    public static func distinctChunks(_ disks: [DiskImageManifest]) -> [ChunkHash] {
        var seen: Set<ChunkHash> = []
        var out: [ChunkHash] = []
        for disk in disks {
            for case let hash? in disk.chunks where seen.insert(hash).inserted { out.append(hash) }
        }
        return out
    }
}

/// A commit named chunks the store does not hold (never uploaded, or removed by garbage collection since).
public struct MissingChunksError: Error, Hashable, Sendable, CustomStringConvertible {
    public var missing: [ChunkHash]
    public init(missing: [ChunkHash]) { self.missing = missing }

    public var description: String {
        let shown = missing.prefix(4).map(\.hex).joined(separator: ", ")
        return
            "\(missing.count) chunk\(missing.count == 1 ? " is" : "s are") not in the store (\(shown)\(missing.count > 4 ? ", …" : "")): "
            + "upload \(missing.count == 1 ? "it" : "them") and commit again; no version was recorded"
    }
}
