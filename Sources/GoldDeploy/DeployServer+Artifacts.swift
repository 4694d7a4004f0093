import Foundation
import GoldCompile
import Hummingbird
import NIOCore
import NIOPosix

extension DeployServer {
    /// `GET /artifacts/KEY` (the manifest: files, hashes, kernel release or binary outputs) and
    /// `GET /artifacts/blobs/SHA256` (a file's bytes, streamed). Keys and hashes are 64 lowercase hex digits.
    func addArtifactRoutes(_ router: Router<DeployContext>, root: String) {
        let reporter = self.reporter
        router.get("/artifacts/{key}") { _, context -> Response in
            let key = try context.parameters.require("key")
            guard Self.isHex64(key) else {
                throw HTTPError(.badRequest, message: "an artifact key is 64 lowercase hex digits")
            }
            let store = try LocalArtifactStore(root: root)
            guard let manifest = try store.manifest(for: CacheKey(hex: key)) else {
                throw HTTPError(.notFound, message: "no artifact \(key)")
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(
                status: .ok, headers: headers,
                body: .init(byteBuffer: ByteBuffer(bytes: Array(try encoder.encode(manifest)))))
        }
        router.get("/artifacts/blobs/{sha256}") { request, context -> Response in
            let sha = try context.parameters.require("sha256")
            guard Self.isHex64(sha) else {
                throw HTTPError(.badRequest, message: "a blob is named by its sha256: 64 lowercase hex digits")
            }
            let path = "\(root)/blobs/\(sha)"
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw HTTPError(.notFound, message: "no blob \(sha)")
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? 0
            let start = ContinuousClock.now
            await reporter.add(
                address: context.remoteAddress ?? "?", mac: nil, file: request.uri.path, protocolName: "http GET",
                bytes: Int(size), outcome: "200", duration: ContinuousClock.now - start)
            var headers = HTTPFields()
            headers[.contentType] = "application/octet-stream"
            headers[.contentLength] = "\(size)"
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody { writer in
                    defer { try? handle.close() }
                    // Disk reads on NIO's file-I/O threads, never the cooperative pool's few.
                    while let piece = try await NIOThreadPool.singleton.runIfActive({
                        try handle.read(upToCount: 1 << 20)
                    }),
                        !piece.isEmpty
                    {
                        try await writer.write(ByteBuffer(bytes: piece))
                    }
                    try await writer.finish(nil)
                })
        }
    }

    static func isHex64(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
