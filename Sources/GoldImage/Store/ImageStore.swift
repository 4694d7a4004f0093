import Crypto
import Foundation
import GoldCore
import GoldSpawn
import Logging

/// Every version of every machine's image, as manifests over a shared ``ChunkStore``.
///
/// On disk: `chunks/ab/<sha256>`, `machines/<machine>/<version>.json` (the manifest: a version exists once
/// this file does), `<version>.files.json` (its file list, written first) and `current` (the deployed version).
/// Writers (import, garbage collection, `setCurrent`) are serialised by ``StoreLock`` (`<store>/lock`, across
/// instances and processes); readers need none because a visible manifest and the chunks it names never change
/// (garbage collection removes only versions outside its rule, and then only chunks no remaining version names).
public final class ImageStore: @unchecked Sendable {
    public let root: URL
    public let chunks: ChunkStore
    let runner: any ProgramRunner
    let logger: Logger
    let now: @Sendable () -> Int64
    private var writeLock: StoreLock { StoreLock(url: root.appendingPathComponent("lock")) }

    func withWriteLock<T>(_ body: () throws -> T) throws -> T { try writeLock.withLock(body) }

    public init(
        root: URL, chunkSize: Int = ChunkStore.defaultChunkSize,
        runner: any ProgramRunner = SystemRunner(),
        logger: Logger = Logger(label: "gold.image.store"),
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    ) {
        self.root = root
        self.chunks = ChunkStore(root: root, chunkSize: chunkSize)
        self.runner = runner
        self.logger = logger
        self.now = now
    }

    // MARK: Paths

    static func validate(machine: String) throws {
        let ok =
            !machine.isEmpty && machine.count <= 128 && !machine.hasPrefix(".")
            && machine.unicodeScalars.allSatisfy {
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0))
            }
        guard ok else {
            throw GoldError(
                .invalidInput, "machine name \"\(machine)\" must be letters, digits, '-', '_' or '.'", at: machine)
        }
    }

    func machineDirectory(_ machine: String) -> URL {
        root.appendingPathComponent("machines").appendingPathComponent(machine)
    }
    func manifestURL(_ machine: String, _ version: Int) -> URL {
        machineDirectory(machine).appendingPathComponent("\(version).json")
    }
    func filesURL(_ machine: String, _ version: Int) -> URL {
        machineDirectory(machine).appendingPathComponent("\(version).files.json")
    }

    // MARK: Reading

    /// The machines that have at least one complete version.
    public func machines() throws -> [String] {
        let dir = root.appendingPathComponent("machines")
        guard FileManager.default.fileExists(atPath: dir.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter {
            (try? list(machine: $0).isEmpty) == false
        }
        .sorted()
    }

    /// The complete versions of `machine`, oldest first (an interrupted import is never listed).
    public func list(machine: String) throws -> [Int] {
        try Self.validate(machine: machine)
        let dir = machineDirectory(machine)
        guard FileManager.default.fileExists(atPath: dir.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).compactMap { name -> Int? in
            guard name.hasSuffix(".json"), !name.hasSuffix(".files.json") else { return nil }
            return Int(name.dropLast(5))
        }.sorted()
    }

    public func manifest(machine: String, version: Int) throws -> ImageManifest {
        try Self.validate(machine: machine)
        let url = manifestURL(machine, version)
        guard let key = ManifestCache.key(url.path) else {
            throw GoldError(.notFound, "machine \(machine) has no image version \(version)", at: url.path)
        }
        return try ManifestCache.shared.manifest(key) {
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw GoldError(.notFound, "machine \(machine) has no image version \(version)", at: url.path)
            }
            return try ImageManifest.decode(data, at: url.path)
        }
    }

    /// The files of a version, when the builder recorded them (captured versions have none).
    public func files(machine: String, version: Int) throws -> FileManifest {
        _ = try manifest(machine: machine, version: version)
        let url = filesURL(machine, version)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw GoldError(
                .notFound,
                "machine \(machine) version \(version) has no file list (captured images are not listed yet)",
                at: url.path)
        }
        do { return try JSONDecoder().decode(FileManifest.self, from: data) } catch {
            throw GoldError(.invalidInput, "file list is not valid JSON: \(error)", at: url.path)
        }
    }

    /// A chunk's bytes, verified.
    public func readChunk(_ hash: ChunkHash) throws -> Data { try chunks.get(hash) }

    /// The deployed version: the one set by ``setCurrent(machine:version:)``, else the newest.
    public func currentVersion(machine: String) throws -> Int? {
        let versions = try list(machine: machine)
        let url = machineDirectory(machine).appendingPathComponent("current")
        if let text = try? String(contentsOf: url, encoding: .utf8),
            let v = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)),
            versions.contains(v)
        {
            return v
        }
        return versions.last
    }

    public func setCurrent(machine: String, version: Int) throws {
        _ = try manifest(machine: machine, version: version)
        try writeLock.withLock {
            try AtomicFile.write(
                Data("\(version)\n".utf8), to: machineDirectory(machine).appendingPathComponent("current"),
                temporaryDirectory: chunks.temporaryDirectory)
        }
    }

    /// Files changed between two versions of a machine.
    public func diff(machine: String, v1: Int, v2: Int) throws -> [FileChange] {
        try files(machine: machine, version: v1).changes(to: files(machine: machine, version: v2))
    }

    /// `count` bytes of disk `disk` starting at `offset`, assembled from chunks (zeros for zero chunks).
    public func read(machine: String, version: Int, disk: Int = 0, offset: UInt64, count: Int) throws -> Data {
        let m = try manifest(machine: machine, version: version)
        guard let d = m.disks.first(where: { $0.index == disk }) else {
            throw GoldError(.notFound, "machine \(machine) version \(version) has no disk \(disk)")
        }
        return try Self.read(d, offset: offset, count: count, chunks: chunks)
    }

    /// `count` bytes of a disk whose manifest the caller holds (a long stream reads the manifest once).
    public func read(_ disk: DiskImageManifest, offset: UInt64, count: Int) throws -> Data {
        try Self.read(disk, offset: offset, count: count, chunks: chunks)
    }

    static func read(_ d: DiskImageManifest, offset: UInt64, count: Int, chunks: ChunkStore) throws -> Data {
        guard offset <= d.size else { return Data() }
        let end = min(d.size, offset + UInt64(count))
        var out = Data(capacity: Int(end - offset))
        var position = offset
        while position < end {
            let index = Int(position / UInt64(d.chunkSize))
            let within = Int(position % UInt64(d.chunkSize))
            let take = min(d.length(ofChunk: index) - within, Int(end - position))
            if let hash = d.chunks[index] {
                let bytes = try chunks.get(hash)
                guard bytes.count == d.length(ofChunk: index) else {
                    throw GoldError(
                        .io, "chunk \(hash.hex) has \(bytes.count) bytes, manifest expects \(d.length(ofChunk: index))")
                }
                out.append(bytes[bytes.startIndex + within..<bytes.startIndex + within + take])
            } else {
                out.append(Data(count: take))
            }
            position += UInt64(take)
        }
        return out
    }

    // MARK: Writing

    /// Chunks a raw single-disk image into the store as the next version of `machine`.
    @discardableResult
    public func importImage(
        file: URL, machine: String, change: ImageChange, parent: Int? = nil, description: String = "",
        files: FileManifest? = nil
    ) throws -> ImportStats {
        try importImages(
            files: [file], devices: [nil], machine: machine, change: change, parent: parent,
            description: description, fileManifest: files)
    }

    /// Chunks one raw image per disk into the store as the next version of `machine`.
    ///
    /// Only chunks the store lacks are written. The version becomes visible when its manifest is renamed into
    /// place, after every chunk and the file list: a failure before that leaves no version, only unreferenced
    /// chunks that ``garbageCollect(keep:dryRun:)`` removes.
    @discardableResult
    public func importImages(
        files: [URL], devices: [String?], machine: String, change: ImageChange, parent: Int? = nil,
        description: String = "",
        fileManifest: FileManifest? = nil
    ) throws -> ImportStats {
        try Self.validate(machine: machine)
        guard !files.isEmpty else { throw GoldError(.invalidInput, "no image file to import", at: machine) }
        return try writeLock.withLock {
            let versions = try list(machine: machine)
            let version = (versions.last ?? 0) + 1
            if let parent, !versions.contains(parent) {
                throw GoldError(
                    .invalidInput, "parent version \(parent) of machine \(machine) does not exist", at: machine)
            }
            var stats = ImportStats(
                version: version, totalChunks: 0, zeroChunks: 0, newChunks: 0, totalBytes: 0, newBytes: 0)
            var disks: [DiskImageManifest] = []
            for (index, file) in files.enumerated() {
                let device = index < devices.count ? devices[index] : nil
                disks.append(try chunkFile(file, index: index, device: device, stats: &stats))
            }
            if let fileManifest {
                try AtomicFile.write(
                    try fileManifest.encoded(), to: filesURL(machine, version),
                    temporaryDirectory: chunks.temporaryDirectory)
            } else {
                // An interrupted import of the same number may have left its file list: it is not this image's.
                try? FileManager.default.removeItem(at: filesURL(machine, version))
            }
            let manifest = ImageManifest(
                machine: machine, version: version, parent: parent ?? versions.last, change: change,
                description: description,
                created: now(), disks: disks)
            try AtomicFile.write(
                try manifest.encoded(), to: manifestURL(machine, version), temporaryDirectory: chunks.temporaryDirectory
            )
            logger.info(
                "imported image",
                metadata: [
                    "machine": "\(machine)", "version": "\(version)", "chunks": "\(stats.totalChunks)",
                    "new": "\(stats.newChunks)", "newBytes": "\(stats.newBytes)",
                ])
            return stats
        }
    }

    private func chunkFile(_ file: URL, index: Int, device: String?, stats: inout ImportStats) throws
        -> DiskImageManifest
    {
        let result = try ImageChunker(chunks: chunks).chunk(file, stats: &stats)
        return DiskImageManifest(
            index: index, device: device, size: result.size, sha256: result.sha256, chunkSize: chunks.chunkSize,
            chunks: result.hashes)
    }
}
