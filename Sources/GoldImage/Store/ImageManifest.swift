import Foundation
import GoldCore

/// Why an image version exists.
public enum ImageChange: String, Hashable, Sendable, Codable, CaseIterable {
    case provision
    case kernelUpgrade = "kernel-upgrade"
    case softwareUpdate = "software-update"
    /// Read back from a machine's disk.
    case capture
}

/// One disk's bytes as an ordered list of chunks.
public struct DiskImageManifest: Hashable, Sendable, Codable {
    /// Position in the machine's `disks` list.
    public var index: Int
    /// The device from the fleet file, for the deployer (`/dev/vda`), when known.
    public var device: String?
    public var size: UInt64
    /// SHA-256 of the whole raw image.
    public var sha256: String
    public var chunkSize: Int
    /// Chunk hashes in order; nil marks an all-zero chunk (never stored). The last chunk may be short.
    public var chunks: [ChunkHash?]

    public init(index: Int, device: String?, size: UInt64, sha256: String, chunkSize: Int, chunks: [ChunkHash?]) {
        self.index = index
        self.device = device
        self.size = size
        self.sha256 = sha256
        self.chunkSize = chunkSize
        self.chunks = chunks
    }

    /// The byte length of chunk `i`.
    public func length(ofChunk i: Int) -> Int {
        Int(min(UInt64(chunkSize), size - UInt64(i) * UInt64(chunkSize)))
    }
}

/// One version of a machine's image: complete once its manifest file exists.
public struct ImageManifest: Hashable, Sendable, Codable {
    public static let formatVersion = 1
    public var format: Int
    public var machine: String
    public var version: Int
    public var parent: Int?
    public var change: ImageChange
    public var description: String
    /// Seconds since 1970 when the version was stored.
    public var created: Int64
    /// One entry per disk in the machine's layout, in order.
    public var disks: [DiskImageManifest]

    public init(
        machine: String, version: Int, parent: Int?, change: ImageChange, description: String, created: Int64,
        disks: [DiskImageManifest]
    ) {
        self.format = Self.formatVersion
        self.machine = machine
        self.version = version
        self.parent = parent
        self.change = change
        self.description = description
        self.created = created
        self.disks = disks
    }

    /// Canonical JSON: sorted keys, so the same manifest is the same bytes.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    public static func decode(_ data: Data, at location: String) throws -> ImageManifest {
        do {
            let manifest = try JSONDecoder().decode(ImageManifest.self, from: data)
            guard manifest.format == formatVersion else {
                throw GoldError(
                    .invalidInput, "manifest format \(manifest.format) is not \(formatVersion)", at: location)
            }
            return manifest
        } catch let error as GoldError {
            throw error
        } catch {
            throw GoldError(.invalidInput, "manifest is not valid JSON: \(error)", at: location)
        }
    }
}

/// What an import did: how much was new against how much the image holds.
public struct ImportStats: Hashable, Sendable {
    public var version: Int
    public var totalChunks: Int
    public var zeroChunks: Int
    public var newChunks: Int
    public var totalBytes: UInt64
    public var newBytes: UInt64
}
