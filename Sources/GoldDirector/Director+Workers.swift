import Foundation
import GoldCompile
import GoldCore
import Hummingbird

extension CompileLease: ResponseEncodable {}
extension ArtifactManifest: ResponseEncodable {}

/// `POST /v1/jobs/lease`: a worker asks for the oldest queued job.
public struct LeaseRequest: Codable, Sendable {
    public var worker: String
    public var ttlSeconds: Int
    public init(worker: String, ttlSeconds: Int) {
        self.worker = worker
        self.ttlSeconds = ttlSeconds
    }
}

/// A worker's log text for the job it holds.
public struct LeaseLog: Codable, Sendable {
    public var lease: CompileLease
    public var text: String
    public init(lease: CompileLease, text: String) {
        self.lease = lease
        self.text = text
    }
}

/// How a worker's job ended.
public struct LeaseCompletion: Codable, Sendable {
    public var lease: CompileLease
    public var outcome: CompileOutcome
    public init(lease: CompileLease, outcome: CompileOutcome) {
        self.lease = lease
        self.outcome = outcome
    }
}

/// `PUT /v1/artifacts/{key}`: publish the files a worker uploaded as blobs.
public struct PublishArtifact: Codable, Sendable {
    public var files: [ArtifactFile]
    public var metadata: ArtifactMetadata
    public init(files: [ArtifactFile], metadata: ArtifactMetadata) {
        self.files = files
        self.metadata = metadata
    }
}

extension CompileError {
    /// A lost lease is a conflict the worker must see as such (it stops building); bad input names what was wrong.
    var http: GoldError {
        switch code {
        case .leaseLost: GoldError(.conflict, message, at: "lease")
        case .notFound: GoldError(.notFound, message)
        case .badInput, .missingInput: GoldError(.invalidInput, message)
        default: GoldError(.io, message)
        }
    }
}

extension Director {
    func decodeBody<T: Decodable>(_ type: T.Type, _ request: Request, _ context: DirectorContext, _ what: String)
        async throws -> T
    {
        do { return try await request.decode(as: type, context: context) } catch {
            throw GoldError(.invalidInput, "the body is not a \(what): \(error)", at: "body")
        }
    }

    /// Calls the queue, turning its errors into HTTP answers.
    func onQueue<T: Sendable>(_ body: (any CompileQueue) async throws -> T) async throws -> T {
        let queue = try requireQueue()
        do { return try await body(queue) } catch let error as CompileError { throw error.http }
    }

    func checkLease(_ lease: CompileLease, _ context: DirectorContext) throws {
        let key = try context.parameters.require("key")
        guard key == lease.job.key.hex else {
            throw GoldError(
                .invalidInput, "the lease is for \(lease.job.key.hex), not \(key)", at: "body.lease.job.key")
        }
    }

    /// Compile workers on other hosts: lease a job, heartbeat, stream its log, complete it. A lost lease answers 409.
    func addWorkerRoutes(_ router: Router<DirectorContext>) {
        router.post("/v1/jobs/lease") { request, context -> Response in
            _ = try context.require(.serverReport)
            let body = try await decodeBody(LeaseRequest.self, request, context, "lease request {worker, ttlSeconds}")
            guard !body.worker.isEmpty, body.worker.count <= 200 else {
                throw GoldError(.invalidInput, "'worker' must name the worker (1–200 characters)", at: "body.worker")
            }
            guard (5...3600).contains(body.ttlSeconds) else {
                throw GoldError(
                    .invalidInput, "'ttlSeconds' must be 5–3600, not \(body.ttlSeconds)", at: "body.ttlSeconds")
            }
            guard
                let lease = try await onQueue({
                    try await $0.lease(worker: body.worker, ttl: .seconds(body.ttlSeconds))
                })
            else {
                return Response(status: .noContent)
            }
            return try lease.response(from: request, context: context)
        }
        router.post("/v1/jobs/{key}/heartbeat") { request, context -> CompileLease in
            _ = try context.require(.serverReport)
            let lease = try await decodeBody(CompileLease.self, request, context, "lease")
            try checkLease(lease, context)
            return try await onQueue { try await $0.heartbeat(lease) }
        }
        router.post("/v1/jobs/{key}/log") { request, context -> Response in
            _ = try context.require(.serverReport)
            let body = try await decodeBody(LeaseLog.self, request, context, "log {lease, text}")
            try checkLease(body.lease, context)
            try await onQueue { try await $0.appendLog(body.lease, body.text) }
            return Response(status: .noContent)
        }
        router.post("/v1/jobs/{key}/complete") { request, context -> Response in
            _ = try context.require(.serverReport)
            let body = try await decodeBody(LeaseCompletion.self, request, context, "completion {lease, outcome}")
            try checkLease(body.lease, context)
            if case .artifact(let manifest, _) = body.outcome {
                // The artifact must be published here before the job may say so.
                guard let artifacts, try artifacts.manifest(for: manifest.key) != nil else {
                    throw GoldError(
                        .invalidInput,
                        "artifact \(manifest.key.hex) is not published here; PUT /v1/artifacts/\(manifest.key.hex) first",
                        at: "body.outcome")
                }
            }
            try await onQueue { try await $0.complete(body.lease, body.outcome) }
            return Response(status: .noContent)
        }
    }

    func requireArtifacts() throws -> LocalArtifactStore {
        guard let artifacts else { throw GoldError(.unavailable, "this director keeps no artifacts") }
        return artifacts
    }

    /// The artifact store remote workers publish into: blobs by SHA-256 (checked on arrival), then the manifest.
    func addArtifactRoutes(_ router: Router<DirectorContext>) {
        router.get("/v1/artifacts/{key}") { _, context -> ArtifactManifest in
            _ = try context.require(.read)
            let key = try context.parameters.require("key")
            guard key.count == 64, key.allSatisfy(\.isHexDigit) else {
                throw GoldError(.invalidInput, "'\(key)' is not an artifact key", at: "path.key")
            }
            guard let manifest = try requireArtifacts().manifest(for: CacheKey(hex: key)) else {
                throw GoldError(.notFound, "no artifact \(key)", at: "path.key")
            }
            return manifest
        }
        router.put("/v1/artifacts/blobs/{sha}") { request, context -> Response in
            _ = try context.require(.serverReport)
            let sha = try context.parameters.require("sha")
            guard sha.count == 64, sha.allSatisfy(\.isHexDigit) else {
                throw GoldError(.invalidInput, "'\(sha)' is not a SHA-256", at: "path.sha")
            }
            let store = try requireArtifacts()
            let temporary = store.temporaryPath()
            guard FileManager.default.createFile(atPath: temporary, contents: nil),
                let handle = FileHandle(forWritingAtPath: temporary)
            else {
                throw GoldError(.io, "cannot create \(temporary)")
            }
            // An artifact file (a kernel, its modules, a binary) is at most 4 GiB: the disk is not a server token's to fill.
            let limit = 4 << 30
            do {
                defer { try? handle.close() }
                var size = 0
                for try await buffer in request.body {
                    size += buffer.readableBytes
                    guard size <= limit else {
                        throw GoldError(.tooLarge, "an artifact blob is at most \(limit >> 30) GiB", at: "body")
                    }
                    try handle.write(contentsOf: buffer.readableBytesView)
                }
                try handle.synchronize()
            } catch let error as GoldError {
                try? FileManager.default.removeItem(atPath: temporary)
                throw error
            } catch {
                try? FileManager.default.removeItem(atPath: temporary)
                throw GoldError(.io, "upload of \(sha) broke off: \(error)")
            }
            do { _ = try store.adoptBlob(temporary, sha256: sha) } catch let error as CompileError { throw error.http }
            return Response(status: .noContent)
        }
        router.put("/v1/artifacts/{key}") { request, context -> ArtifactManifest in
            let identity = try context.require(.serverReport)
            let key = try context.parameters.require("key")
            guard key.count == 64, key.allSatisfy(\.isHexDigit) else {
                throw GoldError(.invalidInput, "'\(key)' is not an artifact key", at: "path.key")
            }
            let body = try await decodeBody(PublishArtifact.self, request, context, "artifact {files, metadata}")
            let manifest: ArtifactManifest
            do {
                manifest = try requireArtifacts().publishStored(
                    key: CacheKey(hex: key), files: body.files, metadata: body.metadata)
            } catch let error as CompileError {
                throw error.http
            }
            _ = try await store.appendEvent(
                NewEvent(
                    actor: identity.actor, kind: "artifact.published",
                    message:
                        "artifact \(manifest.key.short) (\(manifest.metadata.kind.rawValue)) published by \(manifest.metadata.worker): \(manifest.files.count) files"
                ))
            return manifest
        }
    }
}
