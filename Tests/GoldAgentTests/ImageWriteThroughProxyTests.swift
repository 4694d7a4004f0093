import Crypto
import Foundation
import GoldDeploy
import GoldImage
import GoldSpawn
import GoldTFTPServer
import GoldTestSupport
import GoldWorkflow
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import GoldAgentKit

/// The netboot agent writing an image version over real HTTP on loopback: agent → a proxy that flips a byte →
/// the deploy server's router (image store, and its `/v1` proxy) → a director that records what the agent reports.
@Suite struct ImageWriteThroughProxyTests {
    let chunkSize = 64 * 1024
    let machine = "web-7"

    struct Scratch {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("proxy-write-\(UUID().uuidString)")
        init() throws { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
        func path(_ name: String) -> String { url.appendingPathComponent(name).path }
        func remove() { try? FileManager.default.removeItem(at: url) }
    }

    /// Chunk-sized pieces (a number is a distinct pseudo-random pattern, nil is zeros) and a short last chunk.
    func imageBytes(_ fill: [UInt32?], tail: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for value in fill {
            guard let value else {
                bytes += [UInt8](repeating: 0, count: chunkSize)
                continue
            }
            var x = value &* 2_654_435_761 | 1
            for _ in 0..<chunkSize {
                x ^= x << 13
                x ^= x >> 17
                x ^= x << 5
                bytes.append(UInt8(truncatingIfNeeded: x))
            }
        }
        return bytes + (0..<tail).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
    }

    /// What the director heard, what went through the proxy, and what the target holds afterwards.
    struct Outcome {
        var report: RecordingDirector.Report?
        var exchanges: [ByteFlippingProxy.Exchange]
        var target: [UInt8]
    }

    /// Imports the image (its device is a scratch file full of other bytes), serves it, runs one round of the agent's
    /// command loop against the proxy and returns what happened.
    func writeThroughProxy(
        _ scratch: Scratch, image: [UInt8], corrupt: @escaping @Sendable (_ path: String, _ attempt: Int) -> Bool
    ) async throws -> (Outcome, DiskImageManifest) {
        try Data(image).write(to: scratch.url.appendingPathComponent("image.raw"))
        let target = scratch.path("disk.raw")
        #expect(FileManager.default.createFile(atPath: target, contents: Data(repeating: 0x5a, count: image.count)))
        let storeRoot = scratch.url.appendingPathComponent("images")
        let store = ImageStore(root: storeRoot, chunkSize: chunkSize)
        try store.importImages(
            files: [scratch.url.appendingPathComponent("image.raw")], devices: [target], machine: machine,
            change: .provision)
        let disk = try store.manifest(machine: machine, version: 1).disks[0]

        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let command = Command(
            id: "wf-1.write.1", workflow: "wf-1", machine: machine, step: "write the image to the local disk",
            action: .agent(.writeImage(version: 1)))
        let director = RecordingDirector(command: command)
        let (directorPorts, directorReady) = AsyncStream.makeStream(of: Int.self)
        let directorApp = Application(
            router: director.router(),
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "test-director"),
            onServerRunning: { directorReady.yield($0.localAddress?.port ?? 0) }, logger: logger)
        let directorGroup = ServiceGroup(configuration: .init(services: [directorApp], logger: logger))

        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await directorGroup.run() }
            defer { tasks.cancelAll() }
            var directorIterator = directorPorts.makeAsyncIterator()
            guard let directorPort = await directorIterator.next() else {
                throw AgentError("the director did not start")
            }

            try FileManager.default.createDirectory(atPath: scratch.path("files"), withIntermediateDirectories: true)
            let deploy = DeployServer(
                configuration: .init(
                    httpHost: "127.0.0.1", httpPort: 0, publicURL: nil, tftp: TFTPServerConfiguration(),
                    filesDir: scratch.path("files"), tftpRoot: scratch.path("files"), imageStore: storeRoot.path),
                link: DirectorLink(url: "http://127.0.0.1:\(directorPort)", token: "server-token"), logger: logger)
            let (deployPorts, deployReady) = AsyncStream.makeStream(of: Int.self)
            let deployApp = Application(
                router: deploy.makeRouter(),
                configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "test-deploy"),
                onServerRunning: { deployReady.yield($0.localAddress?.port ?? 0) }, logger: logger)
            let deployGroup = ServiceGroup(configuration: .init(services: [deployApp], logger: logger))
            tasks.addTask { try await deployGroup.run() }
            var deployIterator = deployPorts.makeAsyncIterator()
            guard let deployPort = await deployIterator.next() else {
                throw AgentError("the deploy server did not start")
            }

            let proxy = try ByteFlippingProxy(upstreamPort: deployPort, corrupt: corrupt)
            defer { proxy.stop() }
            let api = AgentAPI(director: "http://127.0.0.1:\(proxy.port)", machine: machine, token: "session-token")
            let loop = AgentLoop(
                api: api, handlers: LiveHandlers(mode: .netboot, runner: noPrograms()),
                journal: scratch.path("journal.json"))
            let handled = try await loop.round(wait: 0)
            #expect(handled == 1)

            await deployGroup.triggerGracefulShutdown()
            await directorGroup.triggerGracefulShutdown()
            let outcome = Outcome(
                report: director.reports.withLock { $0[command.id] }, exchanges: proxy.exchanges,
                target: Array(FileManager.default.contents(atPath: target) ?? Data()))
            return (outcome, disk)
        }
    }

    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    @Test func aChunkCorruptedOnceInTransitIsFetchedAgainAndTheDiskVerifies() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let image = imageBytes([1, 2, nil, 3, 4, nil, 5], tail: 1000)
        let bad = ChunkHash(of: image[3 * chunkSize..<4 * chunkSize])
        let (outcome, disk) = try await writeThroughProxy(scratch, image: image) { path, attempt in
            path == "/chunks/\(bad.hex)" && attempt == 1
        }
        #expect(disk.chunks[3] == bad)

        let fetches = outcome.exchanges.filter { $0.path == "/chunks/\(bad.hex)" }
        #expect(fetches.map(\.attempt) == [1, 2])
        #expect(fetches.map { $0.flippedAt != nil } == [true, false])
        // 6 chunks (5 and the tail), one twice.
        #expect(outcome.exchanges.filter { $0.path.hasPrefix("/chunks/") }.count == 7)

        let report = try #require(outcome.report)
        #expect(report.ok)
        #expect(report.outputs?["image.written"] == "1")
        #expect(
            report.detail?.contains(
                "fetched again after a corrupt or failed fetch: chunk 3 (sha256 \(bad.hex.prefix(12))…)") == true)
        #expect(outcome.target == image)
        #expect(Self.sha256(outcome.target) == disk.sha256)
    }

    @Test func aChunkCorruptedOnEveryFetchFailsTheWriteNamingItAndNothingClaimsTheVersion() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let image = imageBytes([1, 2, nil, 3, 4, nil, 5], tail: 1000)
        let bad = ChunkHash(of: image[3 * chunkSize..<4 * chunkSize])
        let (outcome, disk) = try await writeThroughProxy(scratch, image: image) { path, _ in
            path == "/chunks/\(bad.hex)"
        }

        let fetches = outcome.exchanges.filter { $0.path == "/chunks/\(bad.hex)" }
        #expect(fetches.count == 4 && fetches.allSatisfy { $0.flippedAt != nil && $0.status == "200" })

        let report = try #require(outcome.report)
        #expect(!report.ok)
        #expect(report.outputs?["image.written"] == nil)
        let detail = report.detail ?? ""
        #expect(detail.contains("version 1 of \(machine) was not written to \(scratch.path("disk.raw"))"))
        #expect(detail.contains("chunk 3 of disk 0 (sha256 \(bad.hex)) could not be fetched intact in 4 tries"))
        #expect(detail.contains("arrived corrupt"))
        // The corrupt copy never reached the disk, and the disk does not hold the version.
        #expect(Array(outcome.target[3 * chunkSize..<4 * chunkSize]) == [UInt8](repeating: 0x5a, count: chunkSize))
        #expect(Self.sha256(outcome.target) != disk.sha256)
    }
}

/// The director's side of the agent protocol, recorded: it hands out one command, then none, and keeps every result.
final class RecordingDirector: Sendable {
    struct Report: Codable, Sendable {
        var machine: String
        var ok: Bool
        var detail: String?
        var outputs: [String: String]?
    }

    struct Commands: ResponseEncodable {
        var commands: [Command]
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(commands)
        }
    }

    let command: Command
    let handedOut = Mutex(false)
    let reports = Mutex<[String: Report]>([:])

    init(command: Command) { self.command = command }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/v1/agent/commands") { _, _ -> Commands in
            let first = self.handedOut.withLock { handed in
                defer { handed = true }
                return !handed
            }
            return Commands(commands: first ? [self.command] : [])
        }
        router.post("/v1/agent/commands/{id}/result") { request, context -> HTTPResponse.Status in
            let id = try context.parameters.require("id")
            let report = try await request.decode(as: Report.self, context: context)
            self.reports.withLock { $0[id] = report }
            return .noContent
        }
        router.post("/v1/agent/commands/{id}/progress") { _, _ -> HTTPResponse.Status in .noContent }
        return router
    }
}

/// The netboot agent's programs (`sync` after a write) are not run in these tests.
func noPrograms() -> ScriptedRunner { ScriptedRunner { _ in InvocationResult(exitCode: 0) } }
