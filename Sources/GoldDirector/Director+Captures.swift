import Foundation
import GoldAPI
import GoldCore
import GoldImage
import Hummingbird
import Logging

extension ImageCapture.Session: ResponseEncodable {}
extension ImageCapture.MissingAnswer: ResponseEncodable {}
extension ImageCapture.Receipt: ResponseEncodable {}
extension ImageCapture.Result: ResponseEncodable {}
extension ChunkDiff: ResponseEncodable {}

extension MissingChunksError: HTTPResponseError {
    public var status: HTTPResponse.Status { .conflict }
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        errorResponse(
            status: status,
            .init(code: "conflict", message: description, location: "body.disks", problems: missing.map(\.hex)))
    }
}

extension Director {
    /// Capturing a machine's disks as a new image version: a session, which chunks the store lacks, verified chunk
    /// uploads, and the commit that records the version (nothing is visible before it). The machine's agent (its
    /// token is bound to the machine), a server or an admin may call them.
    func addCaptureRoutes(_ router: Router<DirectorContext>) {
        router.post("/v1/images/{machine}/captures") { _, context -> EditedResponse<ImageCapture.Session> in
            let machine = try context.parameters.require("machine")
            let identity = try context.require(.machineReport(machine))
            guard let record = try await store.machine(named: machine) else {
                throw GoldError(.notFound, "no machine named '\(machine)'", at: "path.machine")
            }
            let images = try images()
            let parent = try images.currentVersion(machine: machine)
            let parentManifest = try parent.map { try images.manifest(machine: machine, version: $0) }
            let disks = ImageCapture.disks(spec: record.spec.disks, parent: parentManifest)
            guard !disks.isEmpty else {
                throw GoldError(
                    .invalidInput,
                    "machine \(machine) has no disks in the fleet file and no image version to take them from",
                    at: "machines[\(machine)].disks")
            }
            let info = ImageCapture.Session(
                id: "cap-" + UUID().uuidString.lowercased().prefix(12), machine: machine, parent: parent,
                chunkSize: images.chunks.chunkSize, disks: disks)
            let quota = ImageCapture.uploadQuota(
                spec: record.spec.disks, parent: parentManifest, reported: Self.reportedDiskSizes(record.inventory),
                chunkSize: info.chunkSize)
            _ = try await captures.begin(info, actor: identity.actor, quota: quota)
            logger.info(
                "capture session",
                metadata: ["machine": "\(machine)", "session": "\(info.id)", "actor": "\(identity.actor)"])
            return EditedResponse(status: .created, response: info)
        }
        router.post("/v1/images/{machine}/captures/{capture}/missing") {
            request, context -> ImageCapture.MissingAnswer in
            let (machine, session) = try await captureSession(context)
            let body = try await Self.decodeBody(ImageCapture.MissingRequest.self, request, context, limit: 64 << 20)
            guard body.chunks.count <= 500_000 else {
                throw GoldError(
                    .invalidInput, "at most 500000 hashes per request, not \(body.chunks.count)", at: "body.chunks")
            }
            let hashes = try body.chunks.enumerated().map { i, text in
                guard let hash = ChunkHash(text) else {
                    throw GoldError(
                        .invalidInput, "'\(text.prefix(80))' is not a SHA-256 (64 lowercase hex digits)",
                        at: "body.chunks[\(i)]")
                }
                return hash
            }
            let images = try images()
            let missing = try await Self.onOwnThread { images.missingChunks(hashes) }
            await captures.recordMissing(session.info.id, asked: hashes.count, missing: missing.count)
            _ = machine
            return ImageCapture.MissingAnswer(missing: missing)
        }
        router.put("/v1/images/{machine}/captures/{capture}/chunks/{sha256}") {
            request, context -> ImageCapture.Receipt in
            let (_, session) = try await captureSession(context)
            let text = try context.parameters.require("sha256")
            guard let hash = ChunkHash(text) else {
                throw GoldError(
                    .invalidInput, "'\(text.prefix(80))' is not a SHA-256 (64 lowercase hex digits)", at: "path.sha256")
            }
            let images = try images()
            let body = try await request.body.collect(upTo: images.chunks.chunkSize + 1)
            let bytes = Data(body.readableBytesView)
            let counted = try await captures.reserve(session.info.id, chunk: hash, bytes: bytes.count)
            do {
                let stored = try await Self.onOwnThread { try images.putUploadedChunk(bytes, expected: hash) }
                await captures.recordUpload(
                    session.info.id, chunk: hash, bytes: bytes.count, new: stored, counted: counted)
                return ImageCapture.Receipt(sha256: hash, stored: stored)
            } catch {
                await captures.recordRefused(session.info.id, chunk: hash, counted: counted)
                logger.warning(
                    "capture chunk refused",
                    metadata: ["session": "\(session.info.id)", "sha256": "\(hash.hex)", "error": "\(error)"])
                throw error
            }
        }
        router.post("/v1/images/{machine}/captures/{capture}/commit") {
            request, context -> EditedResponse<ImageCapture.Result> in
            let (machine, session) = try await captureSession(context)
            if let result = session.result { return EditedResponse(status: .ok, response: result) }
            let body = try await Self.decodeBody(ImageCapture.Commit.self, request, context, limit: 64 << 20)
            guard try await captures.startCommit(session.info.id) else {
                throw GoldError(
                    .conflict, "a commit of capture session \(session.info.id) is running", at: "path.capture")
            }
            let images = try images()
            let description =
                body.description.map { String($0.prefix(500)) } ?? "captured by \(session.actor) (\(session.info.id))"
            let parent = session.info.parent
            let manifest: ImageManifest
            do {
                manifest = try await Self.onOwnThread {
                    try images.commitCapture(
                        machine: machine, disks: body.disks, parent: parent, description: description)
                }
            } catch {
                await captures.finishCommit(session.info.id, result: nil)
                throw error
            }
            let counts = await captures.snapshot(session.info.id) ?? session
            let distinct = ImageCapture.distinctChunks(manifest.disks).count
            let recorded = ImageCapture.Result(
                machine: machine, version: manifest.version, parent: manifest.parent, change: manifest.change.rawValue,
                current: true,
                disks: manifest.disks.count, size: manifest.disks.reduce(0) { $0 + $1.size },
                chunks: manifest.disks.reduce(0) { $0 + $1.chunks.count },
                zeroChunks: manifest.disks.reduce(0) { $0 + $1.chunks.filter { $0 == nil }.count },
                uploadedChunks: counts.uploadedChunks, uploadedBytes: counts.uploadedBytes,
                alreadyStored: max(0, distinct - counts.uploadedChunks))
            // Kept before anything else can fail: a commit sent again answers this version, never records a second.
            await captures.finishCommit(
                session.info.id, result: recorded, chunks: ImageCapture.distinctChunks(manifest.disks))
            _ = try? await store.appendEvent(
                NewEvent(
                    actor: session.actor, kind: "machine.image.capture", machine: machine,
                    message:
                        "captured version \(manifest.version) (parent \(manifest.parent.map(String.init) ?? "none")): \(recorded.chunks) chunks, "
                        + "\(recorded.uploadedChunks) uploaded (\(recorded.uploadedBytes >> 20) MiB), \(recorded.alreadyStored) already stored, "
                        + "\(recorded.zeroChunks) zero"))
            return EditedResponse(status: .created, response: recorded)
        }
        router.get("/v1/images/{machine}/chunk-diff") { request, context -> ChunkDiff in
            _ = try context.require(.read)
            let machine = try context.parameters.require("machine")
            let query = request.uri.queryParameters
            guard let from = query.get("from").flatMap(Int.init) else {
                throw GoldError(.invalidInput, "'from' must be a version number", at: "query.from")
            }
            guard let to = query.get("to").flatMap(Int.init) else {
                throw GoldError(.invalidInput, "'to' must be a version number", at: "query.to")
            }
            return try images().chunkDiff(machine: machine, v1: from, v2: to)
        }
    }

    /// The `{machine}` and `{capture}` of the path, after checking the caller may report for the machine.
    /// The disk sizes the machine's agent reported at its last check-in (`inventory.disks[].sizeBytes`).
    static func reportedDiskSizes(_ inventory: JSONValue?) -> [UInt64] {
        guard case .object(let fields)? = inventory, case .array(let disks)? = fields["disks"] else { return [] }
        return disks.compactMap { disk in
            guard case .object(let disk) = disk, case .number(let size)? = disk["sizeBytes"], size >= 0, size < 0x1p63
            else { return nil }
            return UInt64(size)
        }
    }

    func captureSession(_ context: DirectorContext) async throws -> (String, CaptureSessions.Session) {
        let machine = try context.parameters.require("machine")
        _ = try context.require(.machineReport(machine))
        return (machine, try await captures.session(try context.parameters.require("capture"), machine: machine))
    }

    /// A JSON body up to `limit` bytes; a body that does not decode names the field that failed (`body.disks[0].chunks[3]`).
    static func decodeBody<T: Decodable>(_ type: T.Type, _ request: Request, _ context: DirectorContext, limit: Int)
        async throws -> T
    {
        let buffer = try await request.body.collect(upTo: limit)
        do {
            return try context.requestDecoder.decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            let (path, reason) = Self.describe(error)
            throw GoldError(.invalidInput, reason, at: path)
        } catch {
            throw GoldError(.invalidInput, "the body is not JSON: \(error)", at: "body")
        }
    }

    /// Where a decoding error happened, as `body.a[0].b`, and why.
    static func describe(_ error: DecodingError) -> (String, String) {
        func path(_ keys: [any CodingKey]) -> String {
            keys.reduce("body") { text, key in key.intValue.map { "\(text)[\($0)]" } ?? "\(text).\(key.stringValue)" }
        }
        switch error {
        case .keyNotFound(let key, let context): return (path(context.codingPath + [key]), "is required")
        case .typeMismatch(let type, let context):
            return (path(context.codingPath), "must be \(type): \(context.debugDescription)")
        case .valueNotFound(let type, let context): return (path(context.codingPath), "must be \(type), not null")
        case .dataCorrupted(let context): return (path(context.codingPath), context.debugDescription)
        @unknown default: return ("body", "\(error)")
        }
    }
}
