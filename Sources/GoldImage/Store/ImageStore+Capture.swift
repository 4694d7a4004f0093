import Crypto
import Foundation
import GoldCore
import Logging

extension ImageStore {
    /// The asked hashes the store does not hold, each once, in the order asked.
    public func missingChunks(_ hashes: [ChunkHash]) -> [ChunkHash] {
        var seen: Set<ChunkHash> = []
        return hashes.filter { seen.insert($0).inserted && !chunks.contains($0) }
    }

    /// Stores one uploaded chunk after checking that its bytes hash to `expected`; returns false when the store
    /// already held it. Written under the store's writer lock (temporary file, fsync, rename), so garbage
    /// collection never sees half of it. All-zero and oversized chunks are refused: a manifest records zero
    /// chunks as nil and every chunk is at most the store's chunk size.
    @discardableResult
    public func putUploadedChunk(_ bytes: Data, expected: ChunkHash, field: String = "body") throws -> Bool {
        guard !bytes.isEmpty else { throw GoldError(.invalidInput, "the chunk is empty", at: field) }
        guard bytes.count <= chunks.chunkSize else {
            throw GoldError(
                .invalidInput, "the chunk has \(bytes.count) bytes; chunks are at most \(chunks.chunkSize)", at: field)
        }
        guard !bytes.withUnsafeBytes({ ChunkStore.isZero($0) }) else {
            throw GoldError(
                .invalidInput, "an all-zero chunk is not stored: record it as null in the manifest", at: field)
        }
        let actual = ChunkHash(of: bytes)
        guard actual == expected else {
            throw GoldError(
                .invalidInput,
                "the body hashes to \(actual.hex), not \(expected.hex): the chunk was damaged on the way and is not stored",
                at: field)
        }
        return try withWriteLock { try chunks.put(bytes, hash: expected).isNew }
    }

    /// Records captured disks as the next version of `machine` with change `capture`.
    ///
    /// Refused, recording nothing, when a disk is malformed (errors name `body.disks[i]…`), when any chunk it names
    /// is not in the store (``MissingChunksError`` lists them all), when a stored chunk has another length than
    /// its place needs, or when the chunks do not hash to the disk's SHA-256. Chunks are read and the whole disk
    /// hashed before the writer lock is taken; under it their presence is checked again (garbage collection may
    /// have removed chunks no version named yet), then the manifest is renamed into place: a version is complete
    /// or absent. With `makeCurrent` it becomes the machine's current version (the disk holds it).
    public func commitCapture(
        machine: String, disks: [DiskImageManifest], parent: Int?, description: String, makeCurrent: Bool = true
    ) throws -> ImageManifest {
        try Self.validate(machine: machine)
        try ImageCapture.validate(disks, chunkSize: chunks.chunkSize)
        let named = ImageCapture.distinctChunks(disks)
        let absent = missingChunks(named)
        guard absent.isEmpty else { throw MissingChunksError(missing: absent) }
        for (d, disk) in disks.enumerated() { try verifyWhole(disk, at: "body.disks[\(d)]") }
        return try withWriteLock {
            let gone = missingChunks(named)
            guard gone.isEmpty else { throw MissingChunksError(missing: gone) }
            let versions = try list(machine: machine)
            let version = (versions.last ?? 0) + 1
            // An interrupted import of the same number may have left its file list: it is not this image's.
            try? FileManager.default.removeItem(at: filesURL(machine, version))
            let manifest = ImageManifest(
                machine: machine, version: version, parent: parent, change: .capture, description: description,
                created: now(),
                disks: disks)
            try AtomicFile.write(
                try manifest.encoded(), to: manifestURL(machine, version), temporaryDirectory: chunks.temporaryDirectory
            )
            if makeCurrent {
                try AtomicFile.write(
                    Data("\(version)\n".utf8), to: machineDirectory(machine).appendingPathComponent("current"),
                    temporaryDirectory: chunks.temporaryDirectory)
            }
            logger.info(
                "captured image",
                metadata: ["machine": "\(machine)", "version": "\(version)", "chunks": "\(named.count)"])
            return manifest
        }
    }

    /// Reads the disk's chunks (each verified against its name) and checks their lengths and the whole SHA-256.
    private func verifyWhole(_ disk: DiskImageManifest, at field: String) throws {
        var whole = SHA256()
        var zeros = Data()
        for (i, hash) in disk.chunks.enumerated() {
            let length = disk.length(ofChunk: i)
            if let hash {
                let bytes = try chunks.get(hash)
                guard bytes.count == length else {
                    throw GoldError(
                        .invalidInput,
                        "chunk \(hash.hex) has \(bytes.count) bytes; chunk \(i) of a \(disk.size)-byte disk has \(length)",
                        at: "\(field).chunks[\(i)]")
                }
                whole.update(data: bytes)
            } else {
                if zeros.count != length { zeros = Data(count: length) }
                whole.update(data: zeros)
            }
        }
        let digest = whole.finalize().hexString
        guard digest == disk.sha256 else {
            throw GoldError(
                .invalidInput, "the disk's chunks hash to \(digest), not \(disk.sha256): nothing was recorded",
                at: "\(field).sha256")
        }
    }
}
