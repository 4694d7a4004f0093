import Foundation
import GoldCore

/// What to send for an image request; the HTTP server writes it (streaming ``Body/disk`` in pieces).
public struct ImageResponse: Sendable {
    public enum Body: Sendable {
        case empty
        case bytes(Data)
        /// Bytes `lower...upper` of a disk image, read with ``ImageResponse/read(offset:count:)``.
        case disk(DiskImageManifest, lower: UInt64, upper: UInt64)
    }
    public var status: Int
    public var headers: [(String, String)]
    public var body: Body
    let chunks: ChunkStore?

    /// The number of body bytes (Content-Length).
    public var contentLength: UInt64 {
        switch body {
        case .empty: return 0
        case .bytes(let data): return UInt64(data.count)
        case .disk(_, let lower, let upper): return upper - lower + 1
        }
    }

    /// `count` body bytes from `offset` (relative to the body's start): assembled from verified chunks, zeros
    /// for zero chunks. Serve a large body as a loop of 1 MiB reads.
    public func read(offset: UInt64, count: Int) throws -> Data {
        switch body {
        case .empty: return Data()
        case .bytes(let data):
            let start = Int(min(offset, UInt64(data.count)))
            return data.subdata(in: start..<min(data.count, start + count))
        case .disk(let disk, let lower, let upper):
            guard let chunks else { return Data() }
            let from = lower + offset
            guard from <= upper else { return Data() }
            return try ImageStore.read(
                disk, offset: from, count: Int(min(UInt64(count), upper - from + 1)), chunks: chunks)
        }
    }
}

/// Pure request handlers for the image store: path and Range header in, response out. No sockets here.
///
///     GET /images/{machine}                              versions (JSON)
///     GET /images/{machine}/{version|current}/manifest.json
///     GET /images/{machine}/{version|current}/disk{N}.raw  the raw disk, Range supported (`curl | dd of=/dev/vda`)
///     GET /chunks/{sha256}                               one verified chunk
public struct ImageRequestHandler: Sendable {
    public let store: ImageStore

    public init(store: ImageStore) { self.store = store }

    public func handle(method: String = "GET", path: String, range: String? = nil) -> ImageResponse {
        guard method == "GET" || method == "HEAD" else {
            return error(405, "only GET and HEAD are served", extra: [("Allow", "GET, HEAD")])
        }
        var response: ImageResponse
        do {
            response = try route(path: path, range: range)
        } catch let failure as GoldError {
            switch failure.code {
            case .notFound: response = error(404, failure.description)
            case .invalidInput: response = error(400, failure.description)
            default: response = error(500, failure.description)
            }
        } catch {
            response = self.error(500, "\(error)")
        }
        if method == "HEAD" { response.body = .empty }
        return response
    }

    private func route(path: String, range: String?) throws -> ImageResponse {
        let parts = path.split(separator: "?").first.map { $0.split(separator: "/").map(String.init) } ?? []
        switch parts.count {
        case 2 where parts[0] == "chunks":
            guard let hash = ChunkHash(parts[1]) else {
                throw GoldError(.invalidInput, "not a chunk hash: \(parts[1])")
            }
            let data = try store.readChunk(hash)
            return ImageResponse(
                status: 200,
                headers: [
                    ("Content-Type", "application/octet-stream"), ("ETag", "\"\(hash.hex)\""),
                    ("Cache-Control", "public, max-age=31536000, immutable"),
                ],
                body: .bytes(data), chunks: nil)
        case 2 where parts[0] == "images":
            let machine = parts[1]
            let versions = try store.list(machine: machine)
            guard !versions.isEmpty else { throw GoldError(.notFound, "machine \(machine) has no image versions") }
            let entries = try versions.map { try store.manifest(machine: machine, version: $0) }.map {
                VersionSummary(
                    version: $0.version, parent: $0.parent, change: $0.change, description: $0.description,
                    created: $0.created, diskSizes: $0.disks.map(\.size))
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return json(
                try encoder.encode(
                    VersionList(
                        machine: machine, current: try store.currentVersion(machine: machine), versions: entries)))
        case 4 where parts[0] == "images":
            let machine = parts[1]
            let version: Int
            if parts[2] == "current" {
                guard let current = try store.currentVersion(machine: machine) else {
                    throw GoldError(.notFound, "machine \(machine) has no image versions")
                }
                version = current
            } else {
                guard let v = Int(parts[2]) else { throw GoldError(.invalidInput, "not a version number: \(parts[2])") }
                version = v
            }
            let manifest = try store.manifest(machine: machine, version: version)
            if parts[3] == "manifest.json" { return json(try manifest.encoded()) }
            guard parts[3].hasPrefix("disk"), parts[3].hasSuffix(".raw"),
                let index = Int(parts[3].dropFirst(4).dropLast(4)),
                let disk = manifest.disks.first(where: { $0.index == index })
            else { throw GoldError(.notFound, "no such image file: \(parts[3])") }
            var headers: [(String, String)] = [
                ("Content-Type", "application/octet-stream"), ("Accept-Ranges", "bytes"),
                ("ETag", "\"\(disk.sha256)\""),
                ("X-Gold-Image-SHA256", disk.sha256),
            ]
            switch ByteRange.parse(range, length: disk.size) {
            case .whole:
                guard disk.size > 0 else {
                    return ImageResponse(status: 200, headers: headers, body: .empty, chunks: nil)
                }
                return ImageResponse(
                    status: 200, headers: headers, body: .disk(disk, lower: 0, upper: disk.size - 1),
                    chunks: store.chunks)
            case .partial(let lower, let upper):
                headers.append(("Content-Range", "bytes \(lower)-\(upper)/\(disk.size)"))  // RFC 9110 §14.4
                return ImageResponse(
                    status: 206, headers: headers, body: .disk(disk, lower: lower, upper: upper), chunks: store.chunks)
            case .unsatisfiable:
                return ImageResponse(
                    status: 416, headers: [("Content-Range", "bytes */\(disk.size)")], body: .empty, chunks: nil)
            }
        default:
            throw GoldError(.notFound, "no such path: \(path)")
        }
    }

    private func json(_ data: Data) -> ImageResponse {
        ImageResponse(status: 200, headers: [("Content-Type", "application/json")], body: .bytes(data), chunks: nil)
    }

    private func error(_ status: Int, _ message: String, extra: [(String, String)] = []) -> ImageResponse {
        ImageResponse(
            status: status, headers: [("Content-Type", "text/plain; charset=utf-8")] + extra,
            body: .bytes(Data((message + "\n").utf8)),
            chunks: nil)
    }
}

struct VersionSummary: Codable {
    var version: Int
    var parent: Int?
    var change: ImageChange
    var description: String
    var created: Int64
    var diskSizes: [UInt64]
}

struct VersionList: Codable {
    var machine: String
    var current: Int?
    var versions: [VersionSummary]
}
