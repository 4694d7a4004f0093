import Foundation
import GoldCompile
import GoldCore
import GoldDirector
import GoldHTTPClient

/// The director's compile queue seen from a compile server on another host, over the director's worker routes.
/// A 409 from the director is a lost lease: the worker stops building and publishes nothing.
public struct RemoteCompileQueue: CompileQueue {
    public let director: String
    let token: String

    public init(director: String, token: String) {
        self.director = director.hasSuffix("/") ? String(director.dropLast()) : director
        self.token = token
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    func call(_ method: String, _ path: String, _ body: (some Encodable)?, timeout: Duration = .seconds(30))
        async throws -> HTTPClientResponse
    {
        var headers = [("Authorization", "Bearer \(token)")]
        var bytes: [UInt8]?
        if let body {
            headers.append(("Content-Type", "application/json"))
            bytes = Array(try Self.encoder.encode(body))
        }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.send(
                method, director + path, headers: headers, body: bytes, timeout: timeout)
        } catch {
            throw CompileError(.io, "the director at \(director) did not answer \(method) \(path): \(error)")
        }
        switch response.status {
        case 200..<300: return response
        case 409: throw CompileError(.leaseLost, "the director says: \(Self.message(response))")
        case 404: throw CompileError(.notFound, "the director says: \(Self.message(response))")
        case 400: throw CompileError(.badInput, "the director refused \(method) \(path): \(Self.message(response))")
        default:
            throw CompileError(
                .io, "the director answered \(response.status) to \(method) \(path): \(Self.message(response))")
        }
    }

    static func message(_ response: HTTPClientResponse) -> String {
        struct Body: Decodable {
            struct Detail: Decodable { var message: String }
            var error: Detail
        }
        return (try? JSONDecoder().decode(Body.self, from: Data(response.body)))?.error.message
            ?? String(response.text.prefix(300))
    }

    func decode<T: Decodable>(_ type: T.Type, _ response: HTTPClientResponse) throws -> T {
        do { return try Self.decoder.decode(type, from: Data(response.body)) } catch {
            throw CompileError(.io, "the director's answer is not a \(T.self): \(error)")
        }
    }

    public func submit(_ job: CompileJob) async throws -> CompileJob {
        throw CompileError(.badInput, "compile servers do not submit jobs; the director's workflows do")
    }

    public func lease(worker: String, ttl: Duration) async throws -> CompileLease? {
        let response = try await call(
            "POST", "/v1/jobs/lease", LeaseRequest(worker: worker, ttlSeconds: Int(ttl.components.seconds)))
        return response.status == 204 ? nil : try decode(CompileLease.self, response)
    }

    public func heartbeat(_ lease: CompileLease) async throws -> CompileLease {
        try decode(CompileLease.self, try await call("POST", "/v1/jobs/\(lease.job.key.hex)/heartbeat", lease))
    }

    public func appendLog(_ lease: CompileLease, _ text: String) async throws {
        _ = try await call("POST", "/v1/jobs/\(lease.job.key.hex)/log", LeaseLog(lease: lease, text: text))
    }

    public func complete(_ lease: CompileLease, _ outcome: CompileOutcome) async throws {
        _ = try await call(
            "POST", "/v1/jobs/\(lease.job.key.hex)/complete", LeaseCompletion(lease: lease, outcome: outcome))
    }

    public func cancel(_ key: CacheKey) async throws {
        _ = try await call("POST", "/v1/jobs/\(key.hex)/cancel", Optional<String>.none)
    }

    public func status(_ key: CacheKey) async throws -> CompileJobStatus? {
        throw CompileError(.badInput, "compile servers read job status through `gold job show`")
    }

    public func all() async throws -> [CompileJobStatus] {
        throw CompileError(.badInput, "compile servers read the queue through `gold job list`")
    }
}

/// The director's artifact store seen from a compile server on another host: files go up one by one, each checked
/// against its SHA-256 on arrival, then the manifest, which the director accepts only when every file is there.
public struct RemoteArtifactStore: ArtifactStore {
    let remote: RemoteCompileQueue

    public init(director: String, token: String) {
        remote = RemoteCompileQueue(director: director, token: token)
    }

    public func manifest(for key: CacheKey) async throws -> ArtifactManifest? {
        do {
            return try remote.decode(
                ArtifactManifest.self, try await remote.call("GET", "/v1/artifacts/\(key.hex)", Optional<String>.none))
        } catch let error as CompileError
            where error.code == .notFound
        {
            return nil
        }
    }

    public func publish(key: CacheKey, files: [ArtifactUpload], metadata: ArtifactMetadata) async throws
        -> ArtifactManifest
    {
        var stored: [ArtifactFile] = []
        for upload in files {
            guard let data = FileManager.default.contents(atPath: upload.path) else {
                throw CompileError(.io, "cannot read \(upload.name) of \(key.short) at \(upload.path)")
            }
            let sha = SHA256Hex.of(data)
            let headers = [("Authorization", "Bearer \(remote.token)"), ("Content-Type", "application/octet-stream")]
            let response: HTTPClientResponse
            do {
                response = try await HTTPClient.send(
                    "PUT", "\(remote.director)/v1/artifacts/blobs/\(sha)", headers: headers, body: Array(data),
                    timeout: .seconds(600))
            } catch {
                throw CompileError(
                    .io, "upload of \(upload.name) of \(key.short) to \(remote.director) failed: \(error)")
            }
            guard response.status == 204 else {
                throw CompileError(
                    .io,
                    "the director refused \(upload.name) of \(key.short) (\(response.status)): \(RemoteCompileQueue.message(response))"
                )
            }
            stored.append(ArtifactFile(name: upload.name, sha256: sha, size: UInt64(data.count), mode: upload.mode))
        }
        return try remote.decode(
            ArtifactManifest.self,
            try await remote.call("PUT", "/v1/artifacts/\(key.hex)", PublishArtifact(files: stored, metadata: metadata))
        )
    }

    public func fetch(sha256: String, to destination: String) async throws {
        throw CompileError(.badInput, "compile servers do not fetch artifacts")
    }
}
