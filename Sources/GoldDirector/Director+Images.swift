import Foundation
import GoldCore
import GoldImage
import Hummingbird

/// One image version as `gold image list` shows it.
public struct ImageVersionSummary: Codable, Sendable, ResponseEncodable {
    public struct Disk: Codable, Sendable {
        public var index: Int
        public var device: String?
        public var size: UInt64
        public var sha256: String
        public var chunks: Int
        public var zeroChunks: Int
    }
    public var machine: String
    public var version: Int
    public var parent: Int?
    public var change: String
    public var description: String
    public var created: Date
    public var current: Bool
    public var disks: [Disk]
}

extension FileChange: ResponseEncodable {}

extension Director {
    func images() throws -> ImageStore {
        guard let imageStore else { throw GoldError(.unavailable, "this director has no image store") }
        return ImageStore(root: URL(fileURLWithPath: imageStore), logger: logger)
    }

    /// A machine's image lineage: its versions, and what changed between two of them.
    func addImageRoutes(_ router: Router<DirectorContext>) {
        router.get("/v1/images/{machine}") { _, context -> [ImageVersionSummary] in
            _ = try context.require(.read)
            let machine = try context.parameters.require("machine")
            let store = try images()
            let current = try store.currentVersion(machine: machine)
            return try store.list(machine: machine).map { version in
                let m = try store.manifest(machine: machine, version: version)
                return ImageVersionSummary(machine: machine, version: version, parent: m.parent, change: m.change.rawValue,
                    description: m.description, created: Date(timeIntervalSince1970: TimeInterval(m.created)), current: version == current,
                    disks: m.disks.map { .init(index: $0.index, device: $0.device, size: $0.size, sha256: $0.sha256, chunks: $0.chunks.count,
                        zeroChunks: $0.chunks.filter { $0 == nil }.count) })
            }
        }
        router.get("/v1/images/{machine}/diff") { request, context -> [FileChange] in
            _ = try context.require(.read)
            let machine = try context.parameters.require("machine")
            let query = request.uri.queryParameters
            guard let from = query.get("from").flatMap(Int.init) else { throw GoldError(.invalidInput, "'from' must be a version number", at: "query.from") }
            guard let to = query.get("to").flatMap(Int.init) else { throw GoldError(.invalidInput, "'to' must be a version number", at: "query.to") }
            return try images().diff(machine: machine, v1: from, v2: to).sorted { $0.path < $1.path }
        }
    }
}
