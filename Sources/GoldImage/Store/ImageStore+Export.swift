import Crypto
import Foundation
import GoldCore
import GoldSpawn

/// The file format of an exported image.
public enum ImageFormat: String, Hashable, Sendable, Codable, CaseIterable { case raw, qcow2 }

extension ImageStore {
    /// Writes disk `disk` of a version to `destination` as a sparse raw file or (through `qemu-img convert`) qcow2.
    /// Every chunk is verified as it is read (a corrupt one is an error naming it) and the raw bytes are checked
    /// against the manifest's SHA-256 before anything is renamed into place. `progress` gets (bytes done, total).
    public func export(
        machine: String, version: Int, disk: Int = 0, to destination: URL, format: ImageFormat = .raw,
        progress: (UInt64, UInt64) -> Void = { _, _ in }
    ) async throws {
        let m = try manifest(machine: machine, version: version)
        guard let d = m.disks.first(where: { $0.index == disk }) else {
            throw GoldError(.notFound, "machine \(machine) version \(version) has no disk \(disk)", at: "disk")
        }
        let raw = destination.deletingLastPathComponent().appendingPathComponent(
            ".\(destination.lastPathComponent).raw.partial")
        defer { try? FileManager.default.removeItem(at: raw) }
        try writeRaw(d, to: raw, progress: progress)
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

    private func writeRaw(_ d: DiskImageManifest, to url: URL, progress: (UInt64, UInt64) -> Void) throws {
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
            progress(min(offset + UInt64(d.chunkSize), d.size), d.size)
        }
        try handle.truncate(atOffset: d.size)
        try handle.synchronize()
        let digest = sha.finalize().hexString
        guard digest == d.sha256 else {
            throw GoldError(
                .io, "exported disk \(d.index) hashes to \(digest), manifest says \(d.sha256)", at: url.path)
        }
    }
}

extension FileManager {
    func moveItem(at source: URL, to destination: URL, replacing: Bool) throws {
        if replacing, fileExists(atPath: destination.path) { try removeItem(at: destination) }
        try moveItem(at: source, to: destination)
    }
}
