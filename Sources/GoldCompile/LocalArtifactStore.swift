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
        return try writeManifest(ArtifactManifest(key: key, files: stored, metadata: metadata))
    }

    /// Takes a file a remote worker uploaded: moves it into `blobs/` if its SHA-256 is `sha256`, else deletes it and
    /// throws naming both hashes. The temporary file must be in this store's `tmp/` (see `temporaryPath()`).
    public func adoptBlob(_ temporary: String, sha256: String) throws -> UInt64 {
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        guard sha256.count == 64, sha256.allSatisfy(\.isHexDigit) else {
            throw CompileError(.badInput, "'\(sha256)' is not a SHA-256")
        }
        let actual = try Hashing.sha256(file: temporary)
        guard actual == sha256.lowercased() else {
            throw CompileError(
                .badInput, "the uploaded file's SHA-256 is \(actual), not \(sha256): it was damaged on the way")
        }
        let size = try Hashing.size(temporary)
        chmod(temporary, 0o444)
        if !FileManager.default.fileExists(atPath: blobPath(actual)) { try rename(temporary, blobPath(actual)) }
        return size
    }

    /// A fresh path in `tmp/` for an upload on its way in.
    public func temporaryPath() -> String { "\(root)/tmp/\(UUID().uuidString).upload" }

    /// Publishes a manifest whose files are already blobs here (uploaded one by one by a remote worker); every file
    /// must be present with its size, else nothing is published and the error names the missing files.
    public func publishStored(key: CacheKey, files: [ArtifactFile], metadata: ArtifactMetadata) throws
        -> ArtifactManifest
    {
        if let existing = try manifest(for: key) { return existing }
        guard metadata.key == key else {
            throw CompileError(.badInput, "the metadata is for \(metadata.key.short), not \(key.short)")
        }
        var missing: [String] = []
        for file in files {
            guard file.sha256.count == 64, file.sha256.allSatisfy(\.isHexDigit) else {
                throw CompileError(.badInput, "file \(file.name): '\(file.sha256)' is not a SHA-256")
            }
            if (try? Hashing.size(blobPath(file.sha256))) != file.size {
                missing.append("\(file.name) (\(file.sha256.prefix(12)))")
            }
        }
        guard missing.isEmpty else {
            throw CompileError(
                .missingInput,
                "\(key.short) cannot be published: not uploaded (or of another size): \(missing.joined(separator: ", "))"
            )
        }
        return try writeManifest(ArtifactManifest(key: key, files: files, metadata: metadata))
    }

    /// Writes the manifest by rename(2); an artifact another worker published meanwhile wins (same inputs).
    private func writeManifest(_ manifest: ArtifactManifest) throws -> ArtifactManifest {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let temp = "\(root)/tmp/\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: temp) }
        guard FileManager.default.createFile(atPath: temp, contents: try encoder.encode(manifest)) else {
            throw CompileError(.io, "cannot write \(temp)")
        }
        if let existing = try self.manifest(for: manifest.key) { return existing }
        try rename(temp, manifestPath(manifest.key))
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
