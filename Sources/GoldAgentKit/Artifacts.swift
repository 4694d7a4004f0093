import Foundation
import GoldCore
import GoldHTTPClient

/// What the agent reads of a compile artifact's manifest (`GET /artifacts/KEY` on the deploy server).
public struct AgentArtifact: Decodable, Sendable {
    public struct File: Decodable, Sendable {
        public var name: String
        public var sha256: String
        public var size: UInt64
        public var mode: UInt16
    }
    public struct Metadata: Decodable, Sendable {
        public struct Kernel: Decodable, Sendable {
            public var release: String
            public var modules: Bool
        }
        public struct Binary: Decodable, Sendable {
            public struct Output: Decodable, Sendable {
                public var path: String
                public var mode: UInt16
                public var sha256: String
                public var size: UInt64
            }
            public var outputs: [Output]
        }
        public var kernel: Kernel?
        public var binary: Binary?
    }
    public var files: [File]
    public var metadata: Metadata

    public func file(_ name: String) -> File? { files.first { $0.name == name } }
}

/// Artifacts from the deploy server: manifests by key, files by hash, each verified before use.
public struct ArtifactClient: Sendable {
    public var base: String
    public var token: String

    public init(base: String, token: String) {
        self.base = base
        self.token = token
    }

    public func manifest(_ key: String) async throws -> AgentArtifact {
        guard key.utf8.count == 64, key.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw AgentError("artifact key '\(key)' is not 64 lowercase hex digits")
        }
        let response = try await HTTPClient.send(
            "GET", "\(base)/artifacts/\(key)", headers: [("Authorization", "Bearer \(token)")])
        guard response.status == 200 else {
            throw AgentError("artifact \(key.prefix(12)): \(response.status) \(response.text.prefix(200))")
        }
        return try JSONDecoder().decode(AgentArtifact.self, from: Data(response.body))
    }

    /// The blob's bytes, checked against its SHA-256.
    public func bytes(sha256: String) async throws -> [UInt8] {
        let response = try await HTTPClient.send(
            "GET", "\(base)/artifacts/blobs/\(sha256)", headers: [("Authorization", "Bearer \(token)")],
            timeout: .seconds(300))
        guard response.status == 200 else { throw AgentError("blob \(sha256.prefix(12)): \(response.status)") }
        let actual = SHA256Hex.of(response.body)
        guard actual == sha256 else {
            throw AgentError(
                "blob \(sha256.prefix(12)) arrived corrupt (sha256 \(actual.prefix(12))…): nothing installed")
        }
        return response.body
    }
}

/// Files put in place so that a reader (GRUB, a service starting) sees the old file or the new one, never half.
enum SafeFile {
    static func install(_ bytes: [UInt8], at path: String, mode: UInt16) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = path + ".gold-new"
        try? FileManager.default.removeItem(atPath: temporary)
        guard
            FileManager.default.createFile(
                atPath: temporary, contents: Data(bytes), attributes: [.posixPermissions: Int(mode)])
        else {
            throw AgentError("cannot write \(temporary)")
        }
        if let handle = FileHandle(forWritingAtPath: temporary) {
            try? handle.synchronize()
            try? handle.close()
        }
        guard chmod(temporary, mode_t(mode)) == 0, rename(temporary, path) == 0 else {
            let code = errno
            try? FileManager.default.removeItem(atPath: temporary)
            throw AgentError("cannot put \(path) in place: errno \(code)")
        }
    }

    static func write(_ text: String, at path: String) throws {
        let mode =
            (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int).map { UInt16($0) }
            ?? 0o644
        try install(Array(text.utf8), at: path, mode: mode)
    }
}
