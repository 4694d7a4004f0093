import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An `ArtifactStore` in a directory: `blobs/<sha256>`, `manifests/<key>.json`, and `tmp/` where every file is
/// written before a rename(2) puts it in place, so no reader ever sees a partial file or a manifest whose files
/// are not all present.
public struct LocalArtifactStore: ArtifactStore {
    public let root: String

    public init(root: String) throws {
        self.root = root
        for dir in ["blobs", "manifests", "tmp"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(dir)", withIntermediateDirectories: true)
        }
    }

    public func manifest(for key: CacheKey) throws -> ArtifactManifest? {
        let path = manifestPath(key)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do { return try JSONDecoder().decode(ArtifactManifest.self, from: data) } catch {
            throw CompileError(.io, "artifact manifest \(path) is unreadable: \(error)")
        }
    }

    public func publish(key: CacheKey, files: [ArtifactUpload], metadata: ArtifactMetadata) throws -> ArtifactManifest {
        if let existing = try manifest(for: key) { return existing }
        var stored: [ArtifactFile] = []
        for upload in files {
            let temp = "\(root)/tmp/\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: temp) }
            do { try FileManager.default.copyItem(atPath: upload.path, toPath: temp) } catch {
                throw CompileError(.io, "cannot store \(upload.name) of \(key.short) from \(upload.path): \(error)")
            }
            let sha = try Hashing.sha256(file: temp)
            let size = try Hashing.size(temp)
            chmod(temp, 0o444)
            if !FileManager.default.fileExists(atPath: blobPath(sha)) { try rename(temp, blobPath(sha)) }
            stored.append(ArtifactFile(name: upload.name, sha256: sha, size: size, mode: upload.mode))
        }
        let manifest = ArtifactManifest(key: key, files: stored, metadata: metadata)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let temp = "\(root)/tmp/\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: temp) }
        guard FileManager.default.createFile(atPath: temp, contents: try encoder.encode(manifest)) else {
            throw CompileError(.io, "cannot write \(temp)")
        }
        // Another worker may have published the same key meanwhile: its artifact has the same inputs; keep it.
        if let existing = try self.manifest(for: key) { return existing }
        try rename(temp, manifestPath(key))
        return manifest
    }

    public func fetch(sha256: String, to destination: String) throws {
        guard sha256.count == 64, sha256.allSatisfy(\.isHexDigit) else {
            throw CompileError(.badInput, "'\(sha256)' is not a SHA-256")
        }
        guard FileManager.default.fileExists(atPath: blobPath(sha256)) else {
            throw CompileError(.notFound, "no artifact file \(sha256)")
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: destination, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue else {
                throw CompileError(.badInput, "cannot fetch \(sha256) over the directory \(destination)")
            }
            try FileManager.default.removeItem(atPath: destination)
        }
        try FileManager.default.copyItem(atPath: blobPath(sha256), toPath: destination)
    }

    /// Every published key.
    public func keys() throws -> [CacheKey] {
        try FileManager.default.contentsOfDirectory(atPath: "\(root)/manifests").filter { $0.hasSuffix(".json") }
            .map { CacheKey(hex: String($0.dropLast(5))) }.sorted()
    }

    public func blobPath(_ sha256: String) -> String { "\(root)/blobs/\(sha256)" }
    func manifestPath(_ key: CacheKey) -> String { "\(root)/manifests/\(key.hex).json" }

    private func rename(_ from: String, _ to: String) throws {
        guard Glibc.rename(from, to) == 0 else {
            throw CompileError(.io, "cannot rename \(from) to \(to): \(String(cString: strerror(errno)))")
        }
    }
}
