import Foundation
import GoldAPI
import GoldCore
import GoldImage
import GoldSpawn
import GoldWorkflow
import Hummingbird
import Logging
import NIOPosix

extension ImageVersionSummary: ResponseEncodable {}
extension FileChange: ResponseEncodable {}
extension ImageVersionDetail: ResponseEncodable {}
extension GarbageCollection: ResponseEncodable {}

extension ImageLineageSummary: ResponseEncodable {}

/// `POST /v1/image-store/gc`: keep the newest `keep` versions of every machine (default 3); `dryRun` removes nothing.
struct ImageGCRequest: Codable {
    var keep: Int?
    var dryRun: Bool?
}

extension Director {
    func images() throws -> ImageStore {
        guard let imageStore else { throw GoldError(.unavailable, "this director has no image store") }
        return ImageStore(root: URL(fileURLWithPath: imageStore), logger: logger)
    }

    /// A machine's image lineage: its versions, and what changed between two of them.
    func addImageRoutes(_ router: Router<DirectorContext>) {
        router.get("/v1/images") { _, context -> [ImageLineageSummary] in
            _ = try context.require(.read)
            let store = try images()
            return try store.machines().map { machine in
                ImageLineageSummary(
                    machine: machine, current: try store.currentVersion(machine: machine),
                    versions: try store.list(machine: machine).count)
            }
        }
        router.get("/v1/images/{machine}") { _, context -> [ImageVersionSummary] in
            _ = try context.require(.read)
            let machine = try context.parameters.require("machine")
            let store = try images()
            // An unknown machine is a 404, not an empty lineage (a typo must not look like "no images yet").
            let versions = try store.list(machine: machine)
            if versions.isEmpty, try await self.store.machine(named: machine) == nil {
                throw GoldError(.notFound, "no machine named '\(machine)'", at: "path.machine")
            }
            let current = try store.currentVersion(machine: machine)
            return try versions.map { version in
                let m = try store.manifest(machine: machine, version: version)
                return ImageVersionSummary(
                    machine: machine, version: version, parent: m.parent, change: m.change.rawValue,
                    description: m.description, created: Date(timeIntervalSince1970: TimeInterval(m.created)),
                    current: version == current,
                    disks: m.disks.map {
                        .init(
                            index: $0.index, device: $0.device, size: $0.size, sha256: $0.sha256,
                            chunks: $0.chunks.count,
                            zeroChunks: $0.chunks.filter { $0 == nil }.count)
                    })
            }
        }
        router.get("/v1/images/{machine}/{version}") { _, context -> ImageVersionDetail in
            _ = try context.require(.read)
            let machine = try context.parameters.require("machine")
            let store = try images()
            return try store.detail(machine: machine, version: try version(in: context, of: machine, store: store))
        }
        router.get("/v1/images/{machine}/{version}/disks/{disk}") { request, context -> Response in
            _ = try context.require(.read)
            let machine = try context.parameters.require("machine")
            let store = try images()
            let version = try version(in: context, of: machine, store: store)
            let disks = try store.manifest(machine: machine, version: version).disks
            guard let index = context.parameters.get("disk").flatMap(Int.init) else {
                throw GoldError(.invalidInput, "'disk' must be a disk index (0 for the first)", at: "path.disk")
            }
            guard let disk = disks.first(where: { $0.index == index }) else {
                throw GoldError(
                    .notFound,
                    "machine \(machine) version \(version) has no disk \(index) (it has \(disks.map { "\($0.index)" }.joined(separator: ", ")))",
                    at: "path.disk")
            }
            return try await rawDisk(disk, store: store, range: request.headers[.range])
        }
        router.post("/v1/image-store/gc") { request, context -> GarbageCollection in
            let identity = try context.require(.administer)
            let body: ImageGCRequest
            do { body = try await request.decode(as: ImageGCRequest.self, context: context) } catch {
                throw GoldError(.invalidInput, "expected {\"keep\": N, \"dryRun\": true|false}", at: "body")
            }
            let store = try images()
            let rule = try RetentionRule.validated(
                keep: body.keep ?? RetentionRule.defaultKeepLast, pinned: try await versionsInUse(), field: "body.keep")
            let dryRun = body.dryRun ?? false
            // The collection waits for any import holding the store lock and then walks the whole store: a thread of
            // its own keeps it off the few threads Swift concurrency runs the server on.
            let result = try await Self.onOwnThread { try store.garbageCollect(keep: rule, dryRun: dryRun) }
            if !dryRun {
                // Uploads no version used and the collection removed no longer count against their machine's quota.
                let held = await captures.uncommittedChunks()
                let removed = try await Self.onOwnThread { held.filter { !store.chunks.contains($0) } }
                await captures.forgetRemoved(removed)
            }
            logger.notice(
                "image store garbage collection",
                metadata: [
                    "actor": "\(identity.actor)", "dryRun": "\(dryRun)",
                    "versions": "\(result.removedVersions.values.reduce(0) { $0 + $1.count })",
                    "chunks": "\(result.removedChunks)", "bytes": "\(result.bytesFreed)",
                ])
            return result
        }
        router.get("/v1/images/{machine}/diff") { request, context -> [FileChange] in
            _ = try context.require(.read)
            let machine = try context.parameters.require("machine")
            let query = request.uri.queryParameters
            guard let from = query.get("from").flatMap(Int.init) else {
                throw GoldError(.invalidInput, "'from' must be a version number", at: "query.from")
            }
            guard let to = query.get("to").flatMap(Int.init) else {
                throw GoldError(.invalidInput, "'to' must be a version number", at: "query.to")
            }
            return try images().diff(machine: machine, v1: from, v2: to).sorted { $0.path < $1.path }
        }
    }

    /// The `{version}` path parameter: a number the machine has, or `current`.
    func version(in context: DirectorContext, of machine: String, store: ImageStore) throws -> Int {
        let text = try context.parameters.require("version")
        let versions = try store.list(machine: machine)
        guard !versions.isEmpty else {
            throw GoldError(.notFound, "machine \(machine) has no image versions", at: "path.machine")
        }
        if text == "current", let current = try store.currentVersion(machine: machine) { return current }
        guard let version = Int(text) else {
            throw GoldError(
                .invalidInput, "'version' must be a version number or 'current', not '\(text)'", at: "path.version")
        }
        guard versions.contains(version) else {
            let known =
                versions.count <= 12
                ? versions.map(String.init).joined(separator: ", ") : "\(versions.first!) … \(versions.last!)"
            throw GoldError(
                .notFound, "machine \(machine) has no image version \(version) (it has \(known))", at: "path.version")
        }
        return version
    }

    /// The versions workflows in flight will write or restore (`image.version` in their context): never collected.
    func versionsInUse() async throws -> [String: Set<Int>] {
        guard let workflows = workflowStoreBase else { return [:] }
        var pinned: [String: Set<Int>] = [:]
        for workflow in try await workflows.listWorkflows(machine: nil, activeOnly: true, limit: 100_000) {
            if let version = workflow.context[ContextKey.imageVersion].flatMap(Int.init) {
                pinned[workflow.machine, default: []].insert(version)
            }
        }
        return pinned
    }

    /// Whole-disk bodies are answered up to this size in one piece, read before the status is sent, so a corrupt or
    /// missing chunk is a JSON error naming it; larger ones stream and can only break off. `gold image export` asks
    /// for pieces this size.
    static let rawPieceLimit: UInt64 = 16 << 20

    /// A disk's raw bytes, `Range` honoured (RFC 9110 §14.2), like the deploy server's `/images/…/diskN.raw`.
    func rawDisk(_ disk: DiskImageManifest, store: ImageStore, range: String?) async throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        headers[.acceptRanges] = "bytes"
        headers[.eTag] = "\"\(disk.sha256)\""
        headers[HTTPFields.Element.Name("X-Gold-Image-SHA256")!] = disk.sha256
        let lower: UInt64
        let upper: UInt64
        let status: HTTPResponse.Status
        switch ByteRange.parse(range, length: disk.size) {
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(disk.size)"  // RFC 9110 §15.5.17
            return Response(status: .rangeNotSatisfiable, headers: headers)
        case .whole:
            guard disk.size > 0 else { return Response(status: .ok, headers: headers) }
            (lower, upper, status) = (0, disk.size - 1, .ok)
        case .partial(let l, let u):
            (lower, upper, status) = (l, u, .partialContent)
            headers[.contentRange] = "bytes \(l)-\(u)/\(disk.size)"  // RFC 9110 §14.4
        }
        let length = upper - lower + 1
        headers[.contentLength] = "\(length)"
        if length <= Self.rawPieceLimit {
            // Disk reads on NIO's file-I/O threads, never the cooperative pool's few.
            let data = try await NIOThreadPool.singleton.runIfActive {
                try store.read(disk, offset: lower, count: Int(length))
            }
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        let body = ResponseBody { writer in
            var offset = lower
            while offset <= upper {
                let (from, count) = (offset, Int(min(UInt64(1 << 20), upper - offset + 1)))
                let piece = try await NIOThreadPool.singleton.runIfActive {
                    try store.read(disk, offset: from, count: count)
                }
                if piece.isEmpty { break }
                try await writer.write(ByteBuffer(bytes: piece))
                offset += UInt64(piece.count)
            }
            try await writer.finish(nil)
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// Runs blocking store work on a thread of its own.
    static func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await Blocking.run(body)
    }
}
