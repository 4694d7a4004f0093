import Foundation
import GoldCore
import GoldDirector
import GoldHTTPClient
import GoldImage
import GoldWorkflow
import Testing

/// `GET /v1/images/{machine}/{version}`, its raw disk and `POST /v1/image-store/gc` on a live director.
@Suite struct ImageRoutesTests {
    /// A store with three versions of web-01 (4 MiB + 100 bytes each: chunk 1 is zero, chunk 0 and 3 differ per version).
    static func store() throws -> (URL, ImageStore, [Data]) {
        let root = URL(fileURLWithPath: "/tmp/gold-director-tests/images-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let store = ImageStore(root: root.appendingPathComponent("store"))
        var images: [Data] = []
        for variant in UInt8(1)...3 {
            var data = Data(repeating: variant, count: 1 << 20)
            data.append(Data(count: 1 << 20))
            data.append(Data(repeating: 0xAB, count: 1 << 20))
            data.append(Data(repeating: variant &+ 100, count: 1 << 20))
            data.append(Data(repeating: 0xCD, count: 100))
            let file = root.appendingPathComponent("v\(variant).raw")
            try data.write(to: file)
            try store.importImage(
                file: file, machine: "web-01", change: variant == 1 ? .provision : .softwareUpdate,
                description: "v\(variant)")
            images.append(data)
        }
        return (root, store, images)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8]) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(T.self, from: Data(body))
    }

    struct ErrorBody: Decodable {
        struct Detail: Decodable {
            var message: String
            var location: String?
        }
        var error: Detail
    }

    @Test func showAndRawDiskWithRanges() async throws {
        let (root, store, images) = try Self.store()
        defer { try? FileManager.default.removeItem(at: root) }
        try await DirectorHarness.with(imageStore: store.root.path) { h in
            let show = try await h.call("GET", "/v1/images/web-01/2", as: "viewer")
            #expect(show.status == 200, "\(show.text)")
            let detail = try Self.decode(ImageVersionDetail.self, show.body)
            #expect(detail.version == 2 && detail.parent == 1 && !detail.current && detail.description == "v2")
            #expect(detail.newChunks == 2 && detail.newBytes == 2 << 20)
            #expect(detail.disks[0].zeroRanges == [.init(offset: 1 << 20, length: 1 << 20)])
            let current = try Self.decode(
                ImageVersionDetail.self, try await h.call("GET", "/v1/images/web-01/current", as: "viewer").body)
            #expect(current.version == 3 && current.current)

            let missing = try await h.call("GET", "/v1/images/web-01/9", as: "viewer")
            #expect(missing.status == 404)
            #expect(try Self.decode(ErrorBody.self, missing.body).error.location == "path.version")
            #expect(missing.text.contains("it has 1, 2, 3"))
            // A machine the fleet does not have and the store never held is a 404, not an empty lineage; one with
            // no versions yet is an empty list.
            let unknown = try await h.call("GET", "/v1/images/nosuchmachine", as: "viewer")
            #expect(unknown.status == 404 && unknown.text.contains("no machine named 'nosuchmachine'"))
            let none = try await h.call("GET", "/v1/images/web-02", as: "viewer")
            #expect(none.status == 200 && none.text == "[]")
            let bad = try await h.call("GET", "/v1/images/web-01/latest", as: "viewer")
            #expect(bad.status == 400 && bad.text.contains("'version' must be a version number"))
            // The static diff route still wins over {version}.
            let diff = try await h.call("GET", "/v1/images/web-01/diff?from=1&to=2", as: "viewer")
            #expect(diff.text.contains("no file list"), "\(diff.text)")

            let whole = try await h.call("GET", "/v1/images/web-01/2/disks/0", as: "viewer")
            #expect(whole.status == 200 && Data(whole.body) == images[1])
            #expect(whole.header("X-Gold-Image-SHA256") == detail.disks[0].sha256)
            let range = try await h.call(
                "GET", "/v1/images/web-01/2/disks/0", as: "viewer", headers: [("Range", "bytes=1048570-1048585")])
            #expect(range.status == 206 && Data(range.body) == images[1].subdata(in: 1_048_570..<1_048_586))
            #expect(range.header("Content-Range") == "bytes 1048570-1048585/\(images[1].count)")
            let outside = try await h.call(
                "GET", "/v1/images/web-01/2/disks/0", as: "viewer", headers: [("Range", "bytes=99999999-")])
            #expect(outside.status == 416)
            let noDisk = try await h.call("GET", "/v1/images/web-01/2/disks/1", as: "viewer")
            #expect(noDisk.status == 404)
            #expect(try Self.decode(ErrorBody.self, noDisk.body).error.location == "path.disk")

            // A corrupt chunk is an error naming it, never bytes.
            let hash = try #require(try store.manifest(machine: "web-01", version: 2).disks[0].chunks[3])
            try Data(repeating: 0, count: 5).write(to: store.chunks.url(for: hash))
            let corrupt = try await h.call(
                "GET", "/v1/images/web-01/2/disks/0", as: "viewer", headers: [("Range", "bytes=0-8388607")])
            #expect(corrupt.status == 500 && corrupt.text.contains("chunk \(hash.hex) is corrupt"), "\(corrupt.text)")
        }
    }

    @Test func gcKeepsCurrentNewestAndWorkflowVersions() async throws {
        let (root, store, _) = try Self.store()
        defer { try? FileManager.default.removeItem(at: root) }
        try store.setCurrent(machine: "web-01", version: 1)
        try await DirectorHarness.with(imageStore: store.root.path) { h in
            #expect(try await h.call("POST", "/v1/image-store/gc", as: "operator", body: #"{"keep": 1}"#).status == 403)
            let zero = try await h.call("POST", "/v1/image-store/gc", as: "admin", body: #"{"keep": 0}"#)
            #expect(zero.status == 400)
            #expect(try Self.decode(ErrorBody.self, zero.body).error.location == "body.keep")

            // A restore of version 2 in flight pins it.
            let workflow = Workflow(
                id: "wf-restore", kind: .restore, machine: "web-01", steps: [], context: ["image.version": "2"],
                now: Date())
            try await (h.store as! any WorkflowStore).createWorkflow(workflow, actor: "test")
            let pinned = try Self.decode(
                GarbageCollection.self,
                try await h.call("POST", "/v1/image-store/gc", as: "admin", body: #"{"keep": 1, "dryRun": true}"#).body)
            #expect(pinned.dryRun && pinned.removedVersions.isEmpty)
            #expect(pinned.machines.first?.reasons == ["1": ["current"], "2": ["pinned"], "3": ["newest"]])

            var done = workflow
            done.status = .succeeded
            try await (h.store as! any WorkflowStore).saveWorkflow(done, commands: [], events: [])
            let response = try await h.call("POST", "/v1/image-store/gc", as: "admin", body: #"{"keep": 1}"#)
            #expect(response.status == 200, "\(response.text)")
            let gc = try Self.decode(GarbageCollection.self, response.body)
            #expect(!gc.dryRun && gc.removedVersions == ["web-01": [2]])
            #expect(gc.removedChunks == 2 && gc.bytesFreed == 2 << 20)  // version 2's chunks 0 and 3
            #expect(try store.list(machine: "web-01") == [1, 3])
        }
    }
}
