import Foundation
import GoldAPI
import GoldHTTPClient
import GoldImage
import GoldWorkflow

extension LiveHandlers {
    /// Captures every disk of the machine as a new image version (change `capture`, parent the current version):
    /// only chunks the store lacks are uploaded. Disks are read at `root` + their device (a scratch file in tests).
    func captureImage(command: Command, api: AgentAPI) async throws -> HandlerResult {
        guard mode == .netboot else {
            return .failed(
                "a capture runs from the netboot environment: the installed system's disks are mounted and change while read"
            )
        }
        let sink = try await HTTPCaptureSink.begin(api: api)
        var inputs: [DiskCapture.Input] = []
        for disk in sink.session.disks {
            let device: String
            if let path = disk.device {
                device = path
            } else if let serial = disk.serial,
                let found = InventoryCollector(root: root.isEmpty ? "/" : root).collect().disks.first(where: {
                    $0.serial == serial
                })
            {
                device = "/dev/" + found.name
            } else {
                return .failed(
                    "disk \(disk.index) of \(api.machine) names neither a device nor a serial this machine has (\(disk.serial ?? "no serial"))"
                )
            }
            inputs.append(
                DiskCapture.Input(index: disk.index, device: device, source: try FileDiskSource(path: root + device)))
        }
        let capture = DiskCapture(chunkSize: sink.session.chunkSize)
        let throttle = ProgressThrottle()
        let (result, manifests, stats) = try await capture.run(
            inputs, into: sink, description: "\(command.workflow) (session \(sink.session.id))"
        ) {
            fraction, detail in
            if await throttle.due(fraction) { await api.progress(command.id, fraction: fraction, detail: detail) }
        }
        let disks = manifests.map { "\($0.device ?? "disk \($0.index)") sha256 \($0.sha256.prefix(12))…" }.joined(
            separator: ", ")
        return HandlerResult(
            ok: true,
            detail:
                "captured version \(result.version) of \(api.machine) (parent \(result.parent.map(String.init) ?? "none")): \(stats.summary); \(disks)",
            outputs: [
                ContextKey.imageVersion: "\(result.version)", "image.captured": "\(result.version)",
                "capture.uploadedChunks": "\(stats.uploaded)", "capture.uploadedBytes": "\(stats.uploadedBytes)",
                "capture.alreadyStored": "\(stats.alreadyStored)", "capture.zeroChunks": "\(stats.zero)",
            ])
    }
}

/// Reports progress at most once per percent.
actor ProgressThrottle {
    private var last = -1.0
    func due(_ fraction: Double) -> Bool {
        guard fraction >= 1 || fraction - last >= 0.01 else { return false }
        last = fraction
        return true
    }
}

/// A capture session on the director (through the deploy server's `/v1` proxy in the netboot environment).
public struct HTTPCaptureSink: CaptureSink {
    public let api: AgentAPI
    public let session: ImageCapture.Session
    /// Hashes per `missing` request: one request up to a 100 GiB disk of 1 MiB chunks.
    static let askBatch = 100_000

    /// Begins a session for the API's machine.
    public static func begin(api: AgentAPI) async throws -> HTTPCaptureSink {
        let response = try await HTTPClient.send(
            "POST", "\(api.director)/v1/images/\(api.machine)/captures", headers: api.headers, body: Array("{}".utf8))
        guard response.status == 201 else {
            throw AgentError(
                "the director refused to begin a capture of \(api.machine) (\(response.status)): \(response.text.prefix(300))"
            )
        }
        return HTTPCaptureSink(
            api: api, session: try JSONDecoder().decode(ImageCapture.Session.self, from: Data(response.body)))
    }

    var base: String { "\(api.director)/v1/images/\(api.machine)/captures/\(session.id)" }

    public func missing(_ hashes: [ChunkHash]) async throws -> [ChunkHash] {
        var out: [ChunkHash] = []
        for start in stride(from: 0, to: max(hashes.count, 1), by: Self.askBatch) {
            let part = hashes[start..<min(hashes.count, start + Self.askBatch)].map(\.hex)
            let body = try JSONEncoder().encode(ImageCapture.MissingRequest(chunks: part))
            let response = try await HTTPClient.send(
                "POST", base + "/missing", headers: api.headers, body: Array(body), timeout: .seconds(120))
            guard response.status == 200 else {
                throw AgentError("asking which chunks the store lacks: \(response.status) \(response.text.prefix(300))")
            }
            out += try JSONDecoder().decode(ImageCapture.MissingAnswer.self, from: Data(response.body)).missing
        }
        return out
    }

    public func upload(_ hash: ChunkHash, _ bytes: [UInt8]) async throws {
        let response = try await HTTPClient.send(
            "PUT", base + "/chunks/\(hash.hex)",
            headers: [("Authorization", "Bearer \(api.token)"), ("Content-Type", "application/octet-stream")],
            body: bytes,
            timeout: .seconds(120))
        guard response.status == 200 else {
            throw AgentError(
                "the director refused chunk \(hash.hex) (\(response.status)): \(response.text.prefix(300))")
        }
    }

    public func commit(_ disks: [DiskImageManifest], description: String) async throws -> ImageCapture.Result {
        let body = try JSONEncoder().encode(ImageCapture.Commit(disks: disks, description: description))
        // The director reads every chunk back and hashes the whole disk before the version appears.
        let response = try await HTTPClient.send(
            "POST", base + "/commit", headers: api.headers, body: Array(body), timeout: .seconds(1800))
        switch response.status {
        case 200, 201:
            let decoder = JSONDecoder()
            return try decoder.decode(ImageCapture.Result.self, from: Data(response.body))
        case 409:
            struct Answer: Decodable {
                struct Detail: Decodable { var problems: [String]? }
                var error: Detail
            }
            let problems = (try? JSONDecoder().decode(Answer.self, from: Data(response.body)))?.error.problems ?? []
            let missing = problems.compactMap { ChunkHash($0) }
            guard !missing.isEmpty else {
                throw AgentError("the director refused the commit (409): \(response.text.prefix(300))")
            }
            throw MissingChunksError(missing: missing)
        default:
            throw AgentError("the director refused the commit (\(response.status)): \(response.text.prefix(300))")
        }
    }
}
