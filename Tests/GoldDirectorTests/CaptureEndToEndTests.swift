import Crypto
import Foundation
import GoldAgentKit
import GoldCore
import GoldDeploy
import GoldDirector
import GoldHTTPClient
import GoldImage
import GoldTFTPServer
import GoldWorkflow
import Hummingbird
import Logging
import ServiceLifecycle
import Testing

/// A capture end to end without VMs: a live director on loopback, a disk file that is version 1 with a few bytes
/// changed in one chunk, and the netboot agent's capture handler run against it with the machine's agent token.
@Suite struct CaptureEndToEndTests {
    static let chunk = 1 << 20

    /// 64 MiB: chunks 0–47 distinct pseudo-random data, 48–63 zero.
    static func baseImage() -> Data {
        var generator = SystemRandomNumberGenerator()
        var data = Data(count: 64 * chunk)
        data.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            for i in 0..<(48 * chunk / 8) { words[i] = generator.next() }
        }
        return data
    }

    static func sha256(_ data: some DataProtocol) -> String { ChunkHash(of: data).hex }

    static func storedChunkFiles(_ store: ImageStore) throws -> Int { try store.chunks.all().count }

    @Test func theHandlerCapturesOnlyTheChangedChunkAndTheVersionIsTheDisk() async throws {
        let (root, store) = try Self.makeStore()
        defer { try? FileManager.default.removeItem(at: root) }
        let base = Self.baseImage()
        try base.write(to: root.appendingPathComponent("v1.raw"))
        try store.importImages(
            files: [root.appendingPathComponent("v1.raw")], devices: ["/dev/vda"], machine: "web-01", change: .provision
        )

        // The machine's disk: version 1 written out from the store, then one file's worth of bytes changed in chunk 5.
        let machineRoot = root.appendingPathComponent("machine")
        try FileManager.default.createDirectory(
            at: machineRoot.appendingPathComponent("dev"), withIntermediateDirectories: true)
        let diskURL = machineRoot.appendingPathComponent("dev/vda")
        try await store.export(machine: "web-01", version: 1, to: diskURL)
        let handle = try FileHandle(forUpdating: diskURL)
        try handle.seek(toOffset: UInt64(5 * Self.chunk + 12_345))
        try handle.write(contentsOf: Data("hostname=web-01-changed\n".utf8))
        try handle.close()
        let disk = try Data(contentsOf: diskURL)
        #expect(disk != base && disk.count == base.count)
        let chunksBefore = try Self.storedChunkFiles(store)

        try await DirectorHarness.with(imageStore: store.root.path) { h in
            let api = AgentAPI(director: h.base, machine: "web-01", token: h.tokens["agent-web-01"]!)
            let command = Command(
                id: "wf-cap.5.1", workflow: "wf-cap", machine: "web-01",
                step: "capture the disks as a new image version",
                action: .agent(.captureImage))
            let result = await LiveHandlers(mode: .netboot, root: machineRoot.path).handle(
                .captureImage, command: command, api: api)
            #expect(result.ok, "\(result.detail ?? "")")
            #expect(result.outputs["image.version"] == "2" && result.outputs["image.captured"] == "2")
            #expect(
                result.outputs["capture.uploadedChunks"] == "1"
                    && result.outputs["capture.uploadedBytes"] == "\(Self.chunk)")
            #expect(
                result.detail?.contains("64 chunks, 1 uploaded (1.0 MiB), 47 already stored, 16 zero") == true,
                "\(result.detail ?? "")")

            // Server side: one chunk file more in the store, and the director's own session counted one upload.
            #expect(try Self.storedChunkFiles(store) == chunksBefore + 1)
            let events = try await h.store.events(after: 0, machine: "web-01", limit: 100).filter {
                $0.kind == "machine.image.capture"
            }
            #expect(
                events.count == 1
                    && events[0].message.contains("64 chunks, 1 uploaded (1 MiB), 47 already stored, 16 zero"),
                "\(events.map(\.message))")
            #expect(events.first?.actor == "agent:web-01")

            let manifest = try store.manifest(machine: "web-01", version: 2)
            #expect(manifest.change == .capture && manifest.parent == 1 && manifest.description.contains("wf-cap"))
            #expect(try store.currentVersion(machine: "web-01") == 2)
            #expect(manifest.disks[0].sha256 == Self.sha256(disk) && manifest.disks[0].device == "/dev/vda")

            // The version reads back as the disk, over the director's raw route and by export.
            let raw = try await h.call(
                "GET", "/v1/images/web-01/2/disks/0", as: "viewer", headers: [("Range", "bytes=0-16777215")])
            #expect(raw.status == 206 && Data(raw.body) == disk.prefix(16 << 20))
            let exported = root.appendingPathComponent("v2.raw")
            try await store.export(machine: "web-01", version: 2, to: exported)
            #expect(Self.sha256(try Data(contentsOf: exported)) == Self.sha256(disk))

            // The diff: no file list for a capture, so by chunk: chunk 5 only.
            let files = try await h.call("GET", "/v1/images/web-01/diff?from=1&to=2", as: "viewer")
            #expect(files.status == 404 && files.text.contains("no file list"))
            let chunks = try await h.call("GET", "/v1/images/web-01/chunk-diff?from=1&to=2", as: "viewer")
            let diff = try JSONDecoder().decode(ChunkDiff.self, from: Data(chunks.body))
            #expect(
                diff.changedChunks == 1
                    && diff.disks[0].ranges == [.init(offset: UInt64(5 * Self.chunk), length: UInt64(Self.chunk))])
            let show = try await h.call("GET", "/v1/images/web-01/2", as: "viewer")
            #expect(
                show.text.contains("\"change\":\"capture\"") && show.text.contains("\"newChunks\":1"), "\(show.text)")

            // Capturing again moves nothing: every chunk is stored.
            let again = await LiveHandlers(mode: .netboot, root: machineRoot.path).handle(
                .captureImage, command: command, api: api)
            #expect(
                again.ok && again.outputs["image.version"] == "3" && again.outputs["capture.uploadedChunks"] == "0",
                "\(again.detail ?? "")")
            #expect(try store.manifest(machine: "web-01", version: 3).parent == 2)
        }
    }

    @Test func aDamagedUploadIsRefusedAndNothingIsCommitted() async throws {
        let (root, store) = try Self.makeStore()
        defer { try? FileManager.default.removeItem(at: root) }
        var base = Data(repeating: 7, count: 3 * Self.chunk)
        base[0] = 1
        try base.write(to: root.appendingPathComponent("v1.raw"))
        try store.importImages(
            files: [root.appendingPathComponent("v1.raw")], devices: ["/dev/vda"], machine: "web-01", change: .provision
        )

        try await DirectorHarness.with(imageStore: store.root.path) { h in
            let agent = "agent-web-01"
            let begin = try await h.call("POST", "/v1/images/web-01/captures", as: agent, body: "{}")
            #expect(begin.status == 201, "\(begin.text)")
            let session = try JSONDecoder().decode(ImageCapture.Session.self, from: Data(begin.body))
            #expect(
                session.parent == 1 && session.chunkSize == Self.chunk
                    && session.disks == [.init(index: 0, device: "/dev/vda")])
            let path = "/v1/images/web-01/captures/\(session.id)"

            var disk = base
            disk[Self.chunk + 10] = 99
            let changed = disk.subdata(in: Self.chunk..<2 * Self.chunk)
            let hash = ChunkHash(of: changed)
            let missing = try await h.call(
                "POST", path + "/missing", as: agent,
                body: #"{"chunks":["\#(hash.hex)","\#(ChunkHash(of: base.prefix(Self.chunk)).hex)"]}"#)
            #expect(missing.text == #"{"missing":["\#(hash.hex)"]}"#, "\(missing.text)")

            // The bytes are damaged on the way: one bit flipped.
            var damaged = changed
            damaged[4242] ^= 0x01
            let refused = try await HTTPClient.send(
                "PUT", h.base + path + "/chunks/\(hash.hex)",
                headers: [
                    ("Authorization", "Bearer \(h.tokens[agent]!)"), ("Content-Type", "application/octet-stream"),
                ], body: Array(damaged))
            #expect(
                refused.status == 400 && refused.text.contains("damaged on the way")
                    && refused.text.contains("\"location\":\"body\""), "\(refused.text)")
            #expect(!store.chunks.contains(hash) && !store.chunks.contains(ChunkHash(of: damaged)))

            // The commit names the chunk that never arrived, and records nothing.
            var manifest = DiskImageManifest(
                index: 0, device: "/dev/vda", size: UInt64(disk.count), sha256: ChunkHash(of: disk).hex,
                chunkSize: Self.chunk,
                chunks: (0..<3).map { ChunkHash(of: disk.subdata(in: $0 * Self.chunk..<($0 + 1) * Self.chunk)) })
            let body = String(decoding: try JSONEncoder().encode(ImageCapture.Commit(disks: [manifest])), as: UTF8.self)
            let commit = try await h.call("POST", path + "/commit", as: agent, body: body)
            #expect(
                commit.status == 409 && commit.text.contains(hash.hex)
                    && commit.text.contains("no version was recorded"), "\(commit.text)")
            #expect(try store.list(machine: "web-01") == [1])
            #expect(try store.currentVersion(machine: "web-01") == 1)

            // Bad input names the field.
            let badHash = try await h.call(
                "POST", path + "/missing", as: agent, body: #"{"chunks":["\#(hash.hex)","XYZ"]}"#)
            #expect(
                badHash.status == 400 && badHash.text.contains("\"location\":\"body.chunks[1]\""), "\(badHash.text)")
            let badChunk = try await h.call(
                "POST", path + "/commit", as: agent,
                body: body.replacingOccurrences(of: hash.hex, with: "nothex"))
            #expect(
                badChunk.status == 400 && badChunk.text.contains("\"location\":\"body.disks[0].chunks[1]\""),
                "\(badChunk.text)")
            manifest.chunkSize = 4096
            let badSize = try await h.call(
                "POST", path + "/commit", as: agent,
                body: String(decoding: try JSONEncoder().encode(ImageCapture.Commit(disks: [manifest])), as: UTF8.self))
            #expect(
                badSize.status == 400 && badSize.text.contains("\"location\":\"body.disks[0].chunkSize\""),
                "\(badSize.text)")
            let badPath = try await h.call(
                "PUT", path + "/chunks/ABC", as: agent, body: "x", contentType: "application/octet-stream")
            #expect(badPath.status == 400 && badPath.text.contains("path.sha256"))
            let noSession = try await h.call(
                "POST", "/v1/images/web-01/captures/cap-nope/missing", as: agent, body: #"{"chunks":[]}"#)
            #expect(noSession.status == 404 && noSession.text.contains("path.capture"))

            // Only the machine's own agent (or a server, or an admin) may capture it.
            #expect(try await h.call("POST", "/v1/images/web-02/captures", as: agent, body: "{}").status == 403)
            #expect(try await h.call("POST", "/v1/images/web-01/captures", as: "viewer", body: "{}").status == 403)
            #expect(try await h.call("POST", path + "/missing", as: "viewer", body: #"{"chunks":[]}"#).status == 403)
            #expect(try await h.call("POST", "/v1/images/web-01/captures", as: "server", body: "{}").status == 201)
            #expect(try await h.call("POST", "/v1/images/nobody/captures", as: "admin", body: "{}").status == 404)

            // With the chunk sent whole, the same commit records version 2; sent again, it answers the same version.
            let good = try await HTTPClient.send(
                "PUT", h.base + path + "/chunks/\(hash.hex)",
                headers: [
                    ("Authorization", "Bearer \(h.tokens[agent]!)"), ("Content-Type", "application/octet-stream"),
                ], body: Array(changed))
            #expect(good.status == 200 && good.text.contains("\"stored\":true"))
            let recorded = try await h.call("POST", path + "/commit", as: agent, body: body)
            #expect(recorded.status == 201, "\(recorded.text)")
            let result = try JSONDecoder().decode(ImageCapture.Result.self, from: Data(recorded.body))
            #expect(
                result.version == 2 && result.parent == 1 && result.change == "capture" && result.uploadedChunks == 1
                    && result.alreadyStored == 2)
            let repeated = try await h.call("POST", path + "/commit", as: agent, body: body)
            let again = try JSONDecoder().decode(ImageCapture.Result.self, from: Data(repeated.body))
            #expect(repeated.status == 200 && again.version == 2)
            #expect(try store.list(machine: "web-01") == [1, 2])

            // An agent that uploads new chunks and never commits stops at twice its disks plus a chunk (version 2's
            // 3 MiB disk: 7 chunks of 1 MiB), whichever session it uses; the store keeps nothing past that.
            var sessions: [String] = []
            for _ in 0..<2 {
                let begun = try await h.call("POST", "/v1/images/web-01/captures", as: agent, body: "{}")
                sessions.append(try JSONDecoder().decode(ImageCapture.Session.self, from: Data(begun.body)).id)
            }
            var statuses: [Int] = []
            var refusal = ""
            for i in 0..<8 {
                let bytes = (0..<Self.chunk).map { UInt8(truncatingIfNeeded: $0 &* (i + 3) &+ $0 >> 9) }
                let put = try await HTTPClient.send(
                    "PUT", h.base + "/v1/images/web-01/captures/\(sessions[i % 2])/chunks/\(ChunkHash(of: bytes).hex)",
                    headers: [
                        ("Authorization", "Bearer \(h.tokens[agent]!)"), ("Content-Type", "application/octet-stream"),
                    ], body: bytes)
                statuses.append(put.status)
                if put.status != 200 { refusal = put.text }
            }
            #expect(statuses == Array(repeating: 200, count: 7) + [413], "\(statuses)")
            #expect(
                refusal.contains("machine web-01 has uploaded 7 MiB") && refusal.contains("at most 7 MiB"), "\(refusal)"
            )
        }
    }

    /// As in the netboot environment: the agent knows only the deploy server it booted from, whose `/v1` proxy
    /// carries the session, the question, the chunk bodies and the commit to the director.
    @Test func throughTheDeployServersProxy() async throws {
        let (root, store) = try Self.makeStore()
        defer { try? FileManager.default.removeItem(at: root) }
        var base = Data(repeating: 0x5A, count: 6 * Self.chunk + 777)
        base[0] = 1
        base[Self.chunk] = 2
        try base.write(to: root.appendingPathComponent("v1.raw"))
        try store.importImages(
            files: [root.appendingPathComponent("v1.raw")], devices: ["/dev/vda"], machine: "web-01", change: .provision
        )
        let machineRoot = root.appendingPathComponent("machine")
        try FileManager.default.createDirectory(
            at: machineRoot.appendingPathComponent("dev"), withIntermediateDirectories: true)
        var disk = base
        disk[4 * Self.chunk + 3] = 0x77
        disk[6 * Self.chunk + 5] = 0x78  // the short tail changes too
        try disk.write(to: machineRoot.appendingPathComponent("dev/vda"))

        try await DirectorHarness.with(imageStore: store.root.path) { h in
            var logger = Logger(label: "test-deploy")
            logger.logLevel = .warning
            try FileManager.default.createDirectory(
                at: root.appendingPathComponent("files"), withIntermediateDirectories: true)
            let deploy = DeployServer(
                configuration: .init(
                    httpHost: "127.0.0.1", httpPort: 0, publicURL: nil, tftp: TFTPServerConfiguration(),
                    filesDir: root.appendingPathComponent("files").path,
                    tftpRoot: root.appendingPathComponent("files").path,
                    imageStore: store.root.path),
                link: DirectorLink(url: h.base, token: h.tokens["server"]!), logger: logger)
            let (ports, ready) = AsyncStream.makeStream(of: Int.self)
            let app = Application(
                router: deploy.makeRouter(),
                configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "test-deploy"),
                onServerRunning: { ready.yield($0.localAddress?.port ?? 0) }, logger: logger)
            let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var iterator = ports.makeAsyncIterator()
                guard let port = await iterator.next() else {
                    throw GoldError(.internalError, "the deploy server did not start")
                }
                let api = AgentAPI(
                    director: "http://127.0.0.1:\(port)", machine: "web-01", token: h.tokens["agent-web-01"]!)
                let command = Command(
                    id: "wf-p.5.1", workflow: "wf-p", machine: "web-01", step: "capture", action: .agent(.captureImage))
                let result = await LiveHandlers(mode: .netboot, root: machineRoot.path).handle(
                    .captureImage, command: command, api: api)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                #expect(result.ok, "\(result.detail ?? "")")
                #expect(
                    result.detail?.contains("7 chunks, 2 uploaded (1.0 MiB), 3 already stored, 0 zero, 2 repeated")
                        == true, "\(result.detail ?? "")")
            }
            let manifest = try store.manifest(machine: "web-01", version: 2)
            #expect(manifest.change == .capture && manifest.disks[0].sha256 == Self.sha256(disk))
            #expect(try store.read(machine: "web-01", version: 2, offset: 0, count: disk.count) == disk)
        }
    }

    static func makeStore() throws -> (URL, ImageStore) {
        let root = URL(fileURLWithPath: "/tmp/gold-director-tests/capture-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        return (root, ImageStore(root: root.appendingPathComponent("store")))
    }
}
